/**
 * Known prompt-injection phrasings (SPEC §5: logged, not blocked). Cheap: a handful of regexes over
 * the first 20,000 characters.
 */
const PATTERNS: Array<[string, RegExp]> = [
  ['ignore-instructions', /\b(ignore|disregard|forget)\s+(all\s+|any\s+|the\s+)?(previous|prior|above|earlier|system)\s+(instructions|prompts?|rules|messages)\b/i],
  ['new-instructions', /\b(new|updated)\s+system\s+(prompt|instructions)\s*:/i],
  ['role-override', /\byou\s+are\s+now\s+(in\s+)?(developer|dan|jailbreak|god)\s*mode\b/i],
  ['fake-system-tag', /<\/?\s*(system|assistant)\s*>|\[\/?(system|INST)\]/i],
  ['exfiltrate-secrets', /\b(print|reveal|send|show|output|leak)\b[^.\n]{0,40}\b(api[_\s-]?key|token|password|secret|config\.json|credentials)\b/i],
  ['marker-spoof', /(BEGIN|END)\s+UNTRUSTED\s+EXTERNAL\s+INPUT/i]
]

export function scanForInjection (text: string): string[] {
  const sample = text.length > 20_000 ? text.slice(0, 20_000) : text
  return PATTERNS.filter(([, re]) => re.test(sample)).map(([name]) => name)
}
