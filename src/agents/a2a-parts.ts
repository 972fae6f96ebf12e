// What an incoming A2A message carries, read the same way by both A2A servers: `pallet serve`
// (src/serve/a2a.ts) and the example agents (examples/agents/a2a.ts).
import type { Message } from '@a2a-js/sdk';

/** The value of a message's first data part, if any. */
export function messageData(message: Message): unknown {
  for (const part of message.parts) if (part.content?.$case === 'data') return part.content.value;
  return undefined;
}

/** A message's text parts, joined; undefined when it has none. */
export function messageText(message: Message): string | undefined {
  const texts = message.parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : []));
  return texts.length ? texts.join('\n') : undefined;
}
