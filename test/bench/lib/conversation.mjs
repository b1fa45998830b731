// Synthetic conversations for the trimming benchmark: a system message, then user/assistant turns of English-like
// text with chat-like lengths (user 20–1,000 chars, assistant 100–4,000, log-uniform), deterministic per seed.
import { random } from "./events.mjs";

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you " +
  "were her she there would their we him been has when who will more no if out so said what up its about into than " +
  "them can only other new some could time these two may then do first any my now such like our over man me even " +
  "most made after also did many before must through back years where much your way well down should because each " +
  "just those people picture image model answer question context window token budget stream function variable " +
  "conversation assistant request response example server browser worker cancel retry"
).split(" ");
const PUNCT = [".", ",", ".", "?", ":", ";", "!"];

export function prose(rnd, chars) {
  let s = "";
  while (s.length < chars) {
    const w = WORDS[Math.floor(rnd() * WORDS.length)];
    s += s === "" ? w[0].toUpperCase() + w.slice(1) : ` ${w}`;
    if (rnd() < 0.08) s += PUNCT[Math.floor(rnd() * PUNCT.length)];
  }
  return s;
}

const logUniform = (rnd, min, max) => Math.round(min * Math.pow(max / min, rnd()));

/** Texts (not message objects) of a conversation: index 0 is the system prompt, then user, assistant, user, ... */
export function conversationTexts(turnMessages, seed = 11) {
  const rnd = random(seed);
  const texts = ["You are a concise assistant. Answer in the language of the question."];
  for (let i = 0; i < turnMessages; i++) texts.push(prose(rnd, i % 2 === 0 ? logUniform(rnd, 20, 1000) : logUniform(rnd, 100, 4000)));
  return texts;
}

export const roleOf = (index) => (index === 0 ? "system" : index % 2 === 1 ? "user" : "assistant");
