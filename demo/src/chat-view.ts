// The message list of the open conversation. It follows `conversation.onChange` — this tab's replies and, as the
// Conversation follows the store, other tabs' turns (their messages, their streaming text) — and reconciles the DOM
// with `conversation.messages` once per animation frame, so a fast stream costs one render per frame, not per token.
// A message this tab sent that has not gone out yet (queued behind this tab's reply, or waiting for another tab's)
// is shown at the end, with its state in words. The list is the conversation's active path: a version switch, here
// or in another tab, arrives as messages leaving it (`remove`) and joining it (`append`), like any other change.
// At the bottom, the view follows what arrives (text, and images that load late); scrolled up, it stays put and
// offers "Jump to latest". Screen readers hear a reply once, when it ends (the list is not a live region).
import type { AssistantMessage, Conversation, Message, MessageContent, Reply, UserMessage } from "edgechat";
import { clear, h, icon } from "./dom.ts";
import { createFollow } from "./follow.ts";
import { type MessageActions, MessageView, ONLY_VERSION, type Step, statusNotice, type Version } from "./message-view.ts";

export interface ChatActions {
  regenerate(replyId?: string): void;
  continue(): void;
  edit(message: UserMessage, text: string): void;
  /** Make this version of a message part of the active path; false if that failed (the error is shown). */
  switchTo(messageId: string): Promise<boolean>;
  loadOlder(): void;
  /** Answer a tool call that waits for the user (Allow or Deny on its row). */
  approve(callId: string, allowed: boolean): void;
}

export interface ChatViewOptions {
  /**
   * Whether some tab's turn holds the conversation's lock now. With this tab idle, it is another tab's turn whose
   * reply has not begun: its question is on screen, and offering "Get a reply" for it would replace that reply.
   */
  turnRunning?(conversationId: string): Promise<boolean>;
  /** Say something to screen readers (a polite live region): a reply that ended, a send that waits. */
  announce?(text: string): void;
  /** The "Jump to latest" button, shown while the view is scrolled away from the bottom. */
  jump?: HTMLButtonElement;
  /**
   * A keyboard user's focus was on something the list just replaced (Regenerate, Continue, Get a reply: their row
   * goes while the reply streams): where it should go instead, rather than to the page.
   */
  focusLost?(): void;
}

export interface ChatView {
  /** Show a conversation, or the empty state (undefined). */
  show(conversation: Conversation | undefined): void;
  /** Re-check busy/last-message flags (a reply started or ended). */
  refresh(): void;
  /**
   * A reply this tab started (`content`: the message it sends, for send and edit). Until it begins, the message is
   * shown unsent at the end, with a placeholder for the reply that says why it waits.
   */
  track(conversation: Conversation, reply: Reply, content?: MessageContent): void;
}

/** Characters of a finished reply read out to screen readers; the rest is on the page. */
const ANNOUNCED = 600;

/** What a reply that has not begun says, by its state. */
export const WAITING_TEXT = "Waiting for the other tab to finish its reply…";
export const QUEUED_TEXT = "Queued — it goes out when the reply above is done";
export const ELSEWHERE_TEXT = "The other tab is getting the reply…";
const SENDING_TEXT = "Waiting for the reply";

/** One reply this tab started, from `send` (or edit, regenerate, continue) until it ends. */
interface OwnTurn {
  reply: Reply;
  content: MessageContent | undefined;
  bubble?: MessageView;
  placeholder?: Placeholder;
}

const finished = (reply: Reply) => reply.state === "complete" || reply.state === "interrupted" || reply.state === "error";

/** How often to look again whether another tab's turn still runs (its tab may close before its reply begins). */
const PROBE_INTERVAL = 1000;

export function createChatView(scroller: HTMLElement, emptyState: HTMLElement, actions: ChatActions, options: ChatViewOptions = {}): ChatView {
  const list = h("div", { class: "messages-inner" });
  const older = h("button", { class: "load-older button", text: "Load earlier messages", attrs: { type: "button" }, on: { click: () => actions.loadOlder() } });
  // Before the first chunk of this tab's reply arrives, a typing indicator stands in for it.
  const typing = placeholder(options.announce);
  typing.set("sending", SENDING_TEXT, undefined);
  // Another tab's question, its reply not begun yet.
  const elsewhere = placeholder(undefined); // read out when it appears (below), not when made
  elsewhere.set("elsewhere", ELSEWHERE_TEXT, undefined);
  scroller.append(emptyState, list);

  const views = new Map<string, MessageView>();
  const turns = new WeakMap<Conversation, OwnTurn[]>();
  let conversation: Conversation | undefined;
  let unsubscribe: (() => void) | undefined;
  let frame = 0;
  // For a question at the end with no reply while this tab is idle: whose turn is it? Known for `probed` (a message
  // id) once the lock was looked at; `elsewhereTurn` is the answer.
  let probed: string | undefined;
  let probing: string | undefined;
  let elsewhereTurn = false;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  // A version switch on its way (further presses wait for it), and the version whose view takes the focus when it
  // appears: the pressed button went with the view it was in.
  let switching = false;
  // Replies already read out (or there before), and when the conversation was shown.
  const settled = new Set<string>();
  const streamed = new Set<string>();
  let shownAt = 0;
  let refocus: { id: string; step: Step } | undefined;

  const switchVersion = (message: Message, step: Step) => {
    if (!conversation || switching) return;
    const { ids, index } = conversation.versions(message.id);
    const target = ids[index + step];
    if (target === undefined) return;
    switching = true;
    refocus = { id: target, step };
    void actions.switchTo(target).then((switched) => {
      switching = false;
      if (!switched && refocus?.id === target) refocus = undefined;
    });
  };
  const messageActions: MessageActions = { ...actions, switchVersion };

  const probe = (target: Conversation, messageId: string) => {
    if (!options.turnRunning || probing === messageId) return;
    probing = messageId;
    clearTimeout(probeTimer);
    // A failed look is taken as "no turn runs": the actions are offered, as without Web Locks.
    options.turnRunning(target.id).catch(() => false).then(
      (running) => {
        if (probing !== messageId) return;
        probing = undefined;
        if (conversation !== target) return;
        if (probed !== messageId || elsewhereTurn !== running) {
          probed = messageId;
          elsewhereTurn = running;
          schedule();
        }
        if (running) probeTimer = setTimeout(() => probe(target, messageId), PROBE_INTERVAL);
      },
    );
  };

  const follow = createFollow(scroller, list, options.jump, () => (conversation?.messages.length ?? 0) > 0);

  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      sync();
    });
  };

  const sync = () => {
    const focused = document.activeElement;
    const keyboardFocus = focused !== null && list.contains(focused) && focused.matches(":focus-visible");
    render();
    // (Not while a version switch is on its way: the focus goes to the version shown, when it arrives.)
    if (keyboardFocus && !refocus && (document.activeElement === document.body || document.activeElement === null)) options.focusLost?.();
  };

  const render = () => {
    const messages: readonly Message[] = conversation?.messages ?? [];
    const busy = conversation?.busy ?? false;
    const own = (conversation && turns.get(conversation)) ?? [];
    const ownStreaming = own.some((t) => t.reply.state === "streaming");
    // A reply streaming here while this tab is not writing one is another tab's.
    const streamingAnywhere = messages.some((m) => m.role === "assistant" && m.status === "streaming");
    const quiet = !busy && !streamingAnywhere;
    // A reply turns "streaming" once its user message is in the conversation: until then, that message is shown unsent.
    const unsent = own.filter((t) => t.reply.state === "queued" || t.reply.state === "waiting");
    emptyState.hidden = messages.length > 0 || busy;
    // A question at the end, unanswered, and nothing of this tab's on its way: is another tab's turn answering it?
    const trailing = messages[messages.length - 1];
    const question = quiet && trailing?.role === "user" && options.turnRunning ? trailing.id : undefined;
    if (question === undefined) {
      probing = undefined;
      probed = undefined;
      clearTimeout(probeTimer);
    } else if (probed !== question) probe(conversation!, question);
    // Unknown until the lock was looked at (a moment): no actions offered meanwhile.
    const answeredElsewhere = question !== undefined && (probed !== question || elsewhereTurn);
    const idle = quiet && !answeredElsewhere;
    const wanted = new Set(messages.map((m) => m.id));
    for (const [id, view] of views) {
      if (wanted.has(id)) continue;
      view.dispose();
      view.el.remove();
      views.delete(id);
    }
    let lastUser = -1;
    let lastAssistant = -1;
    messages.forEach((m, i) => (m.role === "user" ? (lastUser = i) : (lastAssistant = i)));
    // Walk the list in order, moving or creating elements only where they differ; what is left after is stale.
    if (conversation?.hasOlder) {
      if (list.firstChild !== older) list.prepend(older);
    } else older.remove();
    let cursor: ChildNode | null = list.firstChild === older ? older.nextSibling : list.firstChild;
    const place = (el: Element) => {
      if (el !== cursor) list.insertBefore(el, cursor);
      else cursor = cursor.nextSibling;
    };
    let usersBefore = 0;
    messages.forEach((m, i) => {
      if (m.role === "user") usersBefore++;
      let view = views.get(m.id);
      if (!view) {
        view = new MessageView(m, messageActions);
        views.set(m.id, view);
      }
      const last = i === messages.length - 1;
      view.update(m, {
        idle,
        last,
        continuable: last && conversation!.canContinue,
        newest: i === (m.role === "user" ? lastUser : lastAssistant),
        elsewhere: m.role === "assistant" && m.status === "streaming" && !(ownStreaming && last),
        version: versionOf(conversation!, m.id),
        firstTurn: m.role === "assistant" && !conversation!.hasOlder && usersBefore === 1,
      });
      settle(m, view);
      place(view.el);
      if (refocus?.id === m.id) {
        // Only if the focus fell to the page with the old view: not if the user has moved on meanwhile.
        if (document.activeElement === document.body) view.focusVersion(refocus.step);
        refocus = undefined;
      }
    });
    if (ownStreaming && messages[messages.length - 1]?.role === "user") place(typing.el);
    if (question !== undefined && probed === question && elsewhereTurn) {
      if (!elsewhere.el.isConnected) options.announce?.(ELSEWHERE_TEXT);
      place(elsewhere.el);
    }
    unsent.forEach((turn, i) => {
      if (turn.content !== undefined) {
        turn.bubble ??= unsentBubble(turn.content, messageActions);
        place(turn.bubble.el);
      }
      const p = (turn.placeholder ??= placeholder(options.announce));
      const state = turn.reply.state;
      // The first of this tab's turns is "queued" only for the moment it takes to ask for the lock.
      if (state === "waiting") p.set("waiting", WAITING_TEXT, () => turn.reply.abort());
      else if (state === "queued" && (i > 0 || ownStreaming)) p.set("queued", QUEUED_TEXT, () => turn.reply.abort());
      else p.set("sending", SENDING_TEXT, undefined);
      place(p.el);
    });
    while (cursor) {
      const next: ChildNode | null = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    // The welcome screen opens at its top; a conversation at its newest message.
    follow.settle(!emptyState.hidden);
  };

  /**
   * A reply is read out once, when it has ended: one that ends (or arrives ended) while the conversation is shown.
   * What was there when it was opened, loaded from further back, or brought back by a version switch is not news.
   */
  const settle = (m: Message, view: MessageView) => {
    if (m.role !== "assistant" || settled.has(m.id)) return;
    // A reply's calls are looked at once it is written: whether one waits for the user is known after that.
    if (m.status === "streaming" || m.toolCalls?.some((c) => c.state === "input" || c.state === "pending")) {
      streamed.add(m.id);
      return;
    }
    settled.add(m.id);
    const said = announcement(m, view.text());
    if (said !== undefined && (m.createdAt >= shownAt || streamed.delete(m.id))) options.announce?.(said);
  };

  return {
    show(next) {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const view of views.values()) view.dispose();
      views.clear();
      clear(list);
      conversation = next;
      follow.resume();
      settled.clear();
      streamed.clear();
      shownAt = Date.now();
      for (const m of next?.messages ?? []) if (m.role === "assistant" && m.status !== "streaming") settled.add(m.id);
      probed = probing = undefined;
      clearTimeout(probeTimer);
      refocus = undefined;
      if (next) {
        unsubscribe = next.onChange((change) => {
          // Loading older messages must not yank the view to the bottom.
          if (change.type === "prepend") {
            for (const m of next.messages) if (m.role === "assistant" && m.status !== "streaming") settled.add(m.id);
            follow.keepAbove(sync);
            return;
          }
          schedule();
        });
      }
      sync();
    },
    refresh: schedule,
    track(target, reply, content) {
      // What the reader just asked for: show it, and follow its reply.
      if (target === conversation) follow.resume();
      const turn: OwnTurn = { reply, content };
      const own = turns.get(target) ?? [];
      turns.set(target, own);
      own.push(turn);
      const off = target.onChange((change) => {
        if (change.type === "reply" && change.reply === reply && finished(reply)) {
          off();
          own.splice(own.indexOf(turn), 1);
          turn.bubble?.dispose();
        }
        if (target === conversation) schedule();
      });
      if (target === conversation) schedule();
    },
  };
}

interface Placeholder {
  el: HTMLElement;
  set(state: "sending" | "waiting" | "queued" | "elsewhere", text: string, cancel: (() => void) | undefined): void;
}

/** The reply to come: typing dots and, in words, why it has not started (read out when that changes). */
function placeholder(announce: ((text: string) => void) | undefined): Placeholder {
  const text = h("span", { class: "pending-text" });
  const cancel = h("button", { class: "button small pending-cancel", text: "Cancel", attrs: { type: "button", "aria-label": "Cancel this message" } });
  let onCancel: (() => void) | undefined;
  cancel.addEventListener("click", () => onCancel?.());
  const el = h(
    "div",
    { class: "message assistant pending" },
    h("div", { class: "avatar", attrs: { "aria-hidden": "true" } }, icon("sparkle")),
    h("div", { class: "pending-main" }, h("span", { class: "typing", attrs: { "aria-hidden": "true" } }, h("i"), h("i"), h("i")), text, cancel),
  );
  return {
    el,
    set(state, words, next) {
      if (el.dataset.state !== state) {
        el.dataset.state = state;
        if (state !== "sending") announce?.(words);
      }
      if (text.textContent !== words) text.textContent = words;
      // Plain "waiting for the reply" is said to screen readers only: the dots say it to everyone else.
      text.classList.toggle("visually-hidden", state === "sending");
      onCancel = next;
      cancel.hidden = next === undefined;
    },
  };
}

function versionOf(conversation: Conversation, messageId: string): Version {
  const { ids, index } = conversation.versions(messageId);
  return { index, count: ids.length };
}

/** A message this tab sent that is not in the conversation yet: shown as it will be, marked unsent. */
function unsentBubble(content: MessageContent, actions: MessageActions): MessageView {
  const view = new MessageView({ id: "unsent", role: "user", content, createdAt: 0 }, actions);
  view.update(view.message, { idle: false, last: false, continuable: false, newest: false, elsewhere: false, version: ONLY_VERSION, firstTurn: false });
  view.el.classList.add("unsent");
  view.el.removeAttribute("data-id");
  view.el.removeAttribute("data-role");
  view.el.removeAttribute("data-status");
  return view;
}

/**
 * What a screen reader hears when a reply ends: its text (the start of it), or why it stopped. A step that only
 * called tools says nothing (the answer after it is read out), unless a call waits for the user.
 */
function announcement(m: AssistantMessage, shown: string): string | undefined {
  const text = shown.replace(/\s+/g, " ").trim();
  const waiting = m.toolCalls?.filter((c) => c.state === "approval").map((c) => c.name) ?? [];
  if (waiting.length > 0) return `${waiting.join(" and ")} ${waiting.length === 1 ? "needs" : "need"} your approval: Allow or Deny, on the call's row.`;
  if (m.toolCalls?.length && text === "" && m.status === "complete") return undefined;
  const said = text.length > ANNOUNCED ? `${text.slice(0, ANNOUNCED)}…` : text;
  const notice = statusNotice(m);
  if (m.status === "complete") return said ? `Reply: ${said}` : "The reply is empty.";
  return `${notice?.title ?? "The reply ended"}.${said ? ` Reply so far: ${said}` : ""}`;
}
