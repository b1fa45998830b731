// The relay's events on the wire and in storage: SSE text, one event per id, always written the same way, so a
// stored batch can be cut at an event boundary without parsing it again.

/**
 * One event as the relay sends and stores it: `id: n`, the upstream's event type when it had one, its data
 * lines, then a blank line. Data never holds a CR (the parser split on it), so `\n\n` only ever ends an event.
 */
export function eventText(id: number, data: string, type = "message"): string {
  let text = `id: ${id}\n`;
  if (type !== "message") text += `event: ${type}\n`;
  for (const line of data.split("\n")) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** The events after id `after` of a stored batch that holds ids `firstId`… consecutively. */
export function eventsAfter(text: string, firstId: number, after: number): string {
  let at = 0;
  for (let skip = after - firstId + 1; skip > 0; skip--) {
    const end = text.indexOf("\n\n", at);
    if (end < 0) return "";
    at = end + 2;
  }
  return at === 0 ? text : text.slice(at);
}
