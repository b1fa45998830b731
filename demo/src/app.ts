// The page's controller: which conversation is open, sending and stopping, and keeping the list, the meter
// and the composer in step. Conversations stay in memory once opened, so one can keep streaming (and saving)
// while another is on screen. An open Conversation follows what other tabs do to it (their turns, their streaming
// text, their version switches); this page only renders it, and drops a conversation another tab deletes.
// A conversation is a tree: Edit and Regenerate add a version of a message, and the page shows the active path.
import {
  type ContentInput,
  Conversation,
  type ConversationMeta,
  type ConversationOptions,
  createClient,
  type MessageContent,
  type Reply,
  StorageError,
  UserAbortError,
  type UserMessage,
} from "edgechat";
import type { Attachment } from "./attachments.ts";
import { renderBanner } from "./banner.ts";
import { createChatView } from "./chat-view.ts";
import { createComposer } from "./composer.ts";
import { byId, h } from "./dom.ts";
import { modelLabel } from "./format.ts";
import { createMeter } from "./meter.ts";
import { createNotices } from "./notices.ts";
import type { ServerInfo } from "./server-info.ts";
import { createSidebar } from "./sidebar.ts";
import { openStore } from "./store.ts";
import { renderWelcome } from "./welcome.ts";

export function startApp(info: ServerInfo, baseURL: string): void {
  const notices = createNotices(byId("notice"));
  const store = openStore(() =>
    notices.show({ tone: "warning", title: "Another tab is holding the database", detail: "Close or reload the other tabs of this demo to continue." }),
  );
  const client = createClient({ baseURL });
  const live = new Map<string, { conversation: Conversation; unsubscribe: () => void }>();
  const opening = new Map<string, Promise<Conversation | undefined>>();
  let metas: ConversationMeta[] = [];
  let current: Conversation | undefined;
  let model = info.defaultModel;
  let draft = "";
  let creating = false;

  const windowOf = (m: string) => info.contextWindows[m] ?? info.contextWindow;
  const options = (m: string): ConversationOptions => ({
    client,
    model: m,
    contextWindow: windowOf(m),
    requestOptions: { onRetry: (retry) => notices.retry(retry) },
  });

  // --- the parts of the page ---
  const sidebar = createSidebar(byId("sidebar-content"), {
    onNew: () => newChat(),
    onSelect: (id) => void open(id),
    onRename: (id, title) => void rename(id, title),
    onDelete: (id) => void remove(id),
  });
  const meter = createMeter(byId("meter"), () => windowOf(model));
  const chat = createChatView(byId("messages"), byId("empty-state"), {
    regenerate: (replyId) => current && run(current, (c) => c.regenerate(replyId)),
    continue: () => current && run(current, (c) => c.continue()),
    edit: (message, text) => {
      if (!current) return;
      const content = editedContent(message, text);
      run(current, (c) => c.edit(message.id, content), { content: content as MessageContent });
    },
    switchTo: (messageId) => (current ? switchVersion(current, messageId) : Promise.resolve(false)),
    loadOlder: () => void current?.loadOlder().catch((error) => notices.error(error)),
  }, { turnRunning: (id) => store.isConversationLocked(id) });
  const composer = createComposer(byId<HTMLFormElement>("composer"), byId("drop-overlay"), {
    send,
    stop: () => current?.abort(),
    error: (error) => notices.error(error),
    draft: (text) => {
      draft = text;
      meter.update(current, draft);
    },
  });
  renderBanner(byId("banner"), info, (text) => composer.insert(text));
  renderWelcome(byId("empty-state"), info, (text) => composer.insert(text));

  const title = byId<HTMLButtonElement>("chat-title");
  const modelSelect = byId<HTMLSelectElement>("model-select");
  for (const m of info.models) modelSelect.append(h("option", { text: modelLabel(m), attrs: { value: m } }));
  modelSelect.value = model;
  modelSelect.addEventListener("change", () => {
    model = modelSelect.value;
    meter.update(current, draft);
  });
  title.addEventListener("click", () => {
    if (!current) return;
    document.body.classList.add("sidebar-open");
    sidebar.rename(current.id);
  });
  byId("menu-button").addEventListener("click", () => document.body.classList.toggle("sidebar-open"));
  byId("scrim").addEventListener("click", () => document.body.classList.remove("sidebar-open"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && current?.busy) current.abort();
  });
  byId("mode").textContent = info.mode === "simulated" ? "Simulated model" : "DeepInfra";
  byId("mode").dataset.mode = info.mode;

  // --- the list ---
  let listTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshList = async () => {
    try {
      metas = (await store.list({ limit: 200 })).conversations;
    } catch (error) {
      notices.error(error);
    }
    sidebar.render(metas, current?.id);
    renderHeader();
  };
  const refreshSoon = () => {
    clearTimeout(listTimer);
    listTimer = setTimeout(() => void refreshList(), 150);
  };

  // Another tab changed the database: refresh the list. An open conversation follows the other tab's changes by
  // itself (conversation.onChange says what changed); one deleted there is dropped here.
  store.onChange((change) => {
    refreshSoon();
    if (change.kind !== "delete" || !live.has(change.id)) return;
    forget(change.id);
    if (current?.id === change.id) {
      show(undefined);
      notices.show({ tone: "info", title: "This conversation was deleted in another tab" });
    }
  });

  const renderHeader = () => {
    const meta = current && metas.find((m) => m.id === current!.id);
    // Until the list catches up, a new conversation is named after its first message, as the store will name it.
    title.textContent = current ? meta?.title || firstLine(current) || "New conversation" : "New chat";
    title.disabled = !current;
    modelSelect.value = current?.model ?? model;
    modelSelect.disabled = current !== undefined;
    document.title = current && meta?.title ? `${meta.title} · edgechat` : "edgechat demo";
  };

  // --- conversations ---
  function track(conversation: Conversation): Conversation {
    const unsubscribe = conversation.onChange((change) => {
      if (change.type === "storage-error") {
        notices.error(change.error, [{ label: "Retry saving", run: () => void conversation.flush().then(() => notices.clear(), (e) => notices.error(e)) }]);
        return;
      }
      // The first chunk of a reply: whatever the retry countdown said is over.
      if (change.type === "update" && change.message.role === "assistant") notices.clearRetry();
      if (change.type === "append" || change.type === "remove") {
        refreshSoon();
        if (conversation === current) renderHeader();
      }
      if (conversation !== current) return;
      // Queued, waiting, streaming, done: Stop is there while any reply of this tab is on its way.
      if (change.type === "reply") composer.setBusy(conversation.busy);
      // Not on every streamed token: when the history's shape changes or a reply ends (here or in another tab,
      // which is when what was spent grows).
      const streaming = change.type === "update" && change.message.role === "assistant" && change.message.status === "streaming";
      if (!streaming) meter.update(current, draft);
    });
    live.set(conversation.id, { conversation, unsubscribe });
    return conversation;
  }

  function show(conversation: Conversation | undefined): void {
    current = conversation;
    chat.show(conversation);
    composer.setBusy(conversation?.busy ?? false);
    meter.update(conversation, draft);
    sidebar.render(metas, conversation?.id);
    renderHeader();
    history.replaceState(null, "", conversation ? `#${encodeURIComponent(conversation.id)}` : location.pathname + location.search);
    document.body.classList.remove("sidebar-open");
  }

  function newChat(): void {
    show(undefined);
    composer.focus();
  }

  async function open(id: string): Promise<void> {
    const known = live.get(id);
    if (known) return show(known.conversation);
    let pending = opening.get(id);
    if (!pending) {
      pending = (async () => {
        const meta = metas.find((m) => m.id === id) ?? (await store.get(id));
        if (!meta) return undefined;
        return track(await Conversation.open(store, id, options(meta.model)));
      })().finally(() => opening.delete(id));
      opening.set(id, pending);
    }
    try {
      const conversation = await pending;
      if (conversation) show(conversation);
      else {
        notices.show({ tone: "warning", title: "That conversation no longer exists", detail: "It may have been deleted in another tab." });
        show(undefined);
      }
    } catch (error) {
      notices.error(error);
    }
  }

  async function rename(id: string, newTitle: string): Promise<void> {
    try {
      await store.rename(id, newTitle);
    } catch (error) {
      notices.error(error);
    }
    await refreshList();
  }

  /** Stop a conversation's replies, stop following it, and let it go (it is being, or was, deleted). */
  function forget(id: string): void {
    const entry = live.get(id);
    if (!entry) return;
    live.delete(id);
    entry.unsubscribe();
    entry.conversation.abort();
    entry.conversation.close();
  }

  async function remove(id: string): Promise<void> {
    // Stop saving it first, so a reply that is still streaming does not write into a deleted conversation.
    forget(id);
    try {
      await store.delete(id);
    } catch (error) {
      notices.error(error);
    }
    if (current?.id === id) show(undefined);
    await refreshList();
  }

  // --- sending ---
  // Sending while a reply is on its way queues the message (whileBusy "queue", the default): it goes out when the
  // replies before it are done, and another tab's turn is waited for the same way.
  function send(text: string, image: Attachment | undefined): boolean {
    if (creating) return false;
    const content: ContentInput = image ? [...(text ? [{ type: "text" as const, text }] : []), image.image] : text;
    const unsent = { content: content as MessageContent, text, image };
    if (current) return run(current, (c) => c.send(content), unsent);
    creating = true;
    composer.setEnabled(false);
    Conversation.create(store, options(model)).then(
      (conversation) => {
        creating = false;
        composer.setEnabled(true);
        show(track(conversation));
        run(conversation, (c) => c.send(content), unsent);
      },
      (error) => {
        creating = false;
        composer.setEnabled(true);
        composer.insert(text);
        notices.error(error);
      },
    );
    return true;
  }

  /**
   * Start a reply and follow it to the end. False if it could not start (the error is shown). `unsent`: the message
   * it sends (send, edit), shown until the turn begins; a send's text and image come back into the box if it never
   * goes out (stopped or cancelled while queued or waiting).
   */
  function run(conversation: Conversation, start: (c: Conversation) => Reply, unsent?: { content: MessageContent; text?: string; image?: Attachment | undefined }): boolean {
    let reply: Reply;
    try {
      reply = start(conversation);
    } catch (error) {
      notices.error(error);
      return false;
    }
    notices.clear();
    chat.track(conversation, reply, unsent?.content);
    let begun = false;
    const off = conversation.onChange((change) => {
      if (change.type === "reply" && change.reply === reply && change.reply.state === "streaming") begun = true;
    });
    if (conversation === current) composer.setBusy(conversation.busy);
    chat.refresh();
    reply.done
      .catch((error: unknown) => {
        if (!begun) {
          // It never went out: nothing was stored or sent.
          if (unsent?.text !== undefined && live.get(conversation.id)?.conversation === conversation && conversation === current) {
            composer.restore(unsent.text, unsent.image);
          }
          if (!(error instanceof UserAbortError)) notices.error(error);
          return;
        }
        // Most failures end the reply with a status shown on the message itself; the others need a notice —
        // except a storage failure, already shown (with "Retry saving") by the conversation's storage-error event.
        const last = conversation.messages[conversation.messages.length - 1];
        const recorded = last?.role === "assistant" && (last.status === "error" || last.status === "interrupted");
        if (!recorded && !(error instanceof StorageError)) notices.error(error);
      })
      .finally(() => {
        off();
        notices.clearRetry();
        if (conversation === current) {
          composer.setBusy(conversation.busy);
          meter.update(conversation, draft);
        }
        chat.refresh();
        refreshSoon();
      });
    return true;
  }

  /**
   * Show another version of a message: the path to the newest message under it. Stored, so a reload and the other
   * tabs show it too; the view and the meter follow the path's change like any other. False if it failed.
   */
  async function switchVersion(conversation: Conversation, messageId: string): Promise<boolean> {
    try {
      await conversation.switchTo(messageId);
      return true;
    } catch (error) {
      notices.error(error);
      return false;
    }
  }

  // --- start ---
  void refreshList().then(() => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id) void open(id);
    else show(undefined);
  });
  // A link to a conversation (#id) followed within the page.
  addEventListener("hashchange", () => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id && id !== current?.id) void open(id);
  });
  composer.focus();
}

/** An edited user message keeps its images; only the text is replaced. */
function editedContent(message: UserMessage, text: string): ContentInput {
  if (typeof message.content === "string") return text;
  const images = message.content.filter((p) => p.type === "image");
  return [...(text ? [{ type: "text" as const, text }] : []), ...images];
}

function firstLine(conversation: Conversation): string {
  const first = conversation.messages.find((m): m is UserMessage => m.role === "user");
  if (!first) return "";
  const text = typeof first.content === "string" ? first.content : first.content.map((p) => (p.type === "text" ? p.text : "")).join(" ");
  return text.replace(/\s+/g, " ").trim().slice(0, 60);
}
