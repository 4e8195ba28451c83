import { Command } from 'commander'
import { resolvePaths } from '../home/paths.ts'
import { listSkills, skillRoots } from '../skills/skill-sync.ts'
import { printResult, table } from './output.ts'
import type { CliIo } from './io.ts'

const PLACE: Record<string, string> = { ductor: 'workspace', claude: 'claude', codex: 'codex' }

/**
 * `ductor skills`: the skills of workspace/skills, ~/.claude/skills and ~/.codex/skills (ADR 0023),
 * where each really lives and where it shows. Reads the folders; needs no running service.
 */
export function skillsCommand (io: CliIo): Command {
  return new Command('skills').description('list the skills Claude Code and Codex can use (synced across workspace/skills, ~/.claude/skills, ~/.codex/skills)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const skills = await listSkills(skillRoots(resolvePaths(io.env).skills, io.env))
      printResult(io, opts, skills, () => skills.length === 0
        ? 'No skills yet. Put a folder with a SKILL.md in workspace/skills/ (or ask the assistant to write one).\n'
        : table(skills.map((s) => ({ ...s, in: s.in.map((p) => PLACE[p] ?? p).join(','), description: s.description.length > 70 ? s.description.slice(0, 67) + '...' : s.description })), [['name', 'NAME'], ['in', 'IN'], ['path', 'REAL FOLDER'], ['description', 'DESCRIPTION']]))
    })
}
