// User messages for the long-conversation cases: made from a seed, never downloaded, in the shapes real chats
// have (prose, Chinese written with and without spaces, Japanese, Korean, code, JSON), so a conversation tests
// the SDK's token estimate on more than English.
import { rng } from "../helpers/chunking.ts";
const PROSE =
  "the river runs past an old mill where children fish for trout each summer while their parents talk about rain prices " +
  "harvest weather trains that never come on time and the long road north through the hills to the coast";
const CHINESE = "使用者帳號停止日期。日期格式為年月日，請於系統設定中修改密碼並重新登入以確認變更已經生效";
const JAPANESE = "明日の会議は午後三時から始まります。資料を事前に確認して、質問があれば連絡してください";
const KOREAN = "내일 회의는 오후 세 시에 시작합니다. 자료를 미리 확인하고 질문이 있으면 연락해 주세요";
const CODE = "function total(items) {\n  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);\n}\n";

/** mulberry32, as tiny-model.mjs and the other seeded tests use it. */
export const random = rng;

const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const slice = (next: () => number, text: string, length: number) => {
  const chars = [...text];
  const start = Math.floor(next() * Math.max(1, chars.length - length));
  return chars.slice(start, start + length).join("");
};

/** One part of a message, about `size` characters of one of the shapes. */
function part(next: () => number, size: number): string {
  switch (pick(next, ["prose", "prose", "chinese", "spaced", "japanese", "korean", "code", "json"] as const)) {
    case "prose": {
      const words = PROSE.split(" ");
      return Array.from({ length: Math.ceil(size / 6) }, () => pick(next, words)).join(" ") + ".";
    }
    case "chinese":
      return slice(next, CHINESE.repeat(4), Math.ceil(size / 3));
    case "spaced":
      // Chinese with a space between characters: the shape the issue found under-counted by a third.
      return [...slice(next, CHINESE.repeat(4), Math.ceil(size / 4))].join(" ");
    case "japanese":
      return slice(next, JAPANESE.repeat(4), Math.ceil(size / 3));
    case "korean":
      return slice(next, KOREAN.repeat(4), Math.ceil(size / 2));
    case "code":
      return CODE.repeat(Math.max(1, Math.round(size / CODE.length)));
    case "json":
      return JSON.stringify(Array.from({ length: Math.ceil(size / 40) }, (_, i) => ({ id: i, price: Math.round(next() * 1000) / 10, ok: next() > 0.5 })));
  }
}

/** `count` user messages of about `chars` characters each, the same for the same seed. */
export function userMessages(count: number, chars: number, seed = 7): string[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const parts: string[] = [`Turn ${i + 1}.`];
    let length = 0;
    while (length < chars) {
      const p = part(next, Math.min(200, chars - length + 20));
      parts.push(p);
      length += p.length;
    }
    return parts.join("\n");
  });
}
