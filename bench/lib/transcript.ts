/** Synthetic CLI transcripts for the fake CLIs (test/fakes: FAKE_CLI_TRANSCRIPT=<absolute path>). */

/** A Claude stream-json transcript (the schema of test/fixtures/cli, NOTES §2) and its reply text. */
export function claudeTranscript (deltas: number, delayMs: number): { lines: string, text: string } {
  const session = '3f0c9a52-7d1e-4c55-9a0b-bench0000001'
  const line = (o: Record<string, unknown>): string => JSON.stringify({ ...o, session_id: session })
  const pieces = Array.from({ length: deltas }, (_, i) => `word${i} and **bold** text, `)
  const text = pieces.join('')
  const usage = { input_tokens: 100, output_tokens: 1 }
  const ev = (event: Record<string, unknown>): string => line({ type: 'stream_event', event, parent_tool_use_id: null })
  const lines = [
    line({ type: 'system', subtype: 'init', cwd: '/', model: 'claude-sonnet-5', permissionMode: 'bypassPermissions', tools: [] }),
    ev({ type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', content: [], usage } }),
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...pieces.map((p) => ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } })),
    line({ type: 'assistant', message: { id: 'msg_bench', type: 'message', role: 'assistant', content: [{ type: 'text', text }], usage }, parent_tool_use_id: null }),
    ev({ type: 'content_block_stop', index: 0 }),
    ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 600 } }),
    ev({ type: 'message_stop' }),
    line({ type: 'result', subtype: 'success', is_error: false, duration_ms: deltas * delayMs, num_turns: 1, result: text, total_cost_usd: 0.001, usage: { ...usage, output_tokens: 600 } })
  ]
  return { lines: lines.join('\n') + '\n', text }
}
