/**
 * Reads a chat completions stream (`data: {json}` events, blank-line separated, ending `data: [DONE]`)
 * as it arrives; lines may be split across chunks at any byte and end in \r\n.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line.startsWith('data:')) yield line.slice(5).trimStart();
      nl = buf.indexOf('\n');
    }
  }
  const last = buf.replace(/\r$/, '');
  if (last.startsWith('data:')) yield last.slice(5).trimStart();
}
