// The page's controller: which conversation is open, sending and stopping, and keeping the list, the meter
// and the composer in step. Conversations stay in memory once opened, so one can keep streaming (and saving)
// while another is on screen. An open Conversation follows what other tabs do to it (their turns, their streaming
// text, their version switches); this page only renders it, and drops a conversation another tab deletes.
// A conversation is a tree: Edit and Regenerate add a version of a message, and the page shows the active path.
// The URL's hash names the open conversation: links, Back and Forward switch conversations.
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
import { createDrawer } from "./drawer.ts";
import { modelLabel } from "./format.ts";
import { plainText } from "./markdown/plain.ts";
import { createMeter } from "./meter.ts";
import { type Draft, EMPTY_DRAFT, refusedAt } from "./next-request.ts";
import { createNotices } from "./notices.ts";
import type { ServerInfo } from "./server-info.ts";
import { createRoute } from "./route.ts";
import { createSidebar } from "./sidebar.ts";
import { openStore } from "./store.ts";
import { pageTools } from "./tools.ts";
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
  let draft: Draft = EMPTY_DRAFT;
  let creating = false;
  const route = createRoute((id) => follow(id));

  const windowOf = (m: string) => info.contextWindows[m] ?? info.contextWindow;
  // The tools the model may call, run in this page (src/tools.ts). One set for every conversation: a call finds its
  // own conversation by its id (image_size reads that conversation's images).
  const tools = pageTools({
    messagesOf: (callId) =>
      [...live.values()].map((e) => e.conversation).find((c) => c.messages.some((m) => m.role === "assistant" && m.toolCalls?.some((call) => call.id === callId)))?.messages,
  });
  const options = (m: string): ConversationOptions => ({
    client,
    model: m,
    contextWindow: windowOf(m),
    requestOptions: { onRetry: (retry) => notices.retry(retry) },
    // Declared to the simulator only: whether DeepInfra's Llama 3.2 Vision takes tools is untried here (no network
    // in tests), and llama.cpp's server refuses them unless started with --jinja; a refusal would fail every message.
    ...(info.mode === "simulated" && { tools }),
  });
  // A new chat's meter measures with a conversation of the chosen model that holds nothing and is never stored.
  const blanks = new Map<string, Conversation>();
  const blank = (m: string) => {
    let conversation = blanks.get(m);
    if (!conversation) blanks.set(m, (conversation = new Conversation(options(m))));
    return conversation;
  };
  const updateMeter = () => meter.update(current ?? blank(model), draft);
  const announcer = byId("announcer");
  const announce = (text: string) => {
    // Emptied first, so the same words said twice are read twice.
    announcer.textContent = "";
    requestAnimationFrame(() => (announcer.textContent = text));
  };

  // --- the parts of the page ---
  const sidebar = createSidebar(byId("sidebar-content"), {
    onNew: () => newChat(),
    // The link changes the hash, and the hash opens the conversation (route.ts): here, only close the drawer.
    onSelect: (_id, byKeyboard) => {
      drawer.close(false);
      // Chosen from the keyboard: the next thing to do is to type.
      if (byKeyboard) composer.focus();
    },
    onRename: (id, title) => void rename(id, title),
    onDelete: (id) => void remove(id),
  });
  const meter = createMeter(byId("meter"));
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
    approve: (callId, allowed) => current && run(current, (c) => c.approve(callId, allowed)),
  }, { turnRunning: (id) => store.isConversationLocked(id), announce, jump: byId<HTMLButtonElement>("jump-latest"), focusLost: () => composer.focus() });
  const composer = createComposer(byId<HTMLFormElement>("composer"), byId("drop-overlay"), {
    send,
    stop: () => current?.abort(),
    error: (error) => notices.error(error),
    draft: (next) => {
      draft = next;
      updateMeter();
    },
  });
  renderBanner(byId("banner"), info, (text) => composer.insert(text));
  renderWelcome(byId("empty-state"), info, (text) => composer.insert(text));

  const title = byId<HTMLButtonElement>("chat-title");
  const topbar = title.closest<HTMLElement>(".topbar")!;
  const modelPicker = byId("model-picker");
  const modelWhy = byId("model-why");
  const modelSelect = byId<HTMLSelectElement>("model-select");
  for (const m of info.models) modelSelect.append(h("option", { text: modelLabel(m), attrs: { value: m } }));
  modelSelect.value = model;
  modelSelect.addEventListener("change", () => {
    model = modelSelect.value;
    updateMeter();
  });
  const drawer = createDrawer({
    drawer: byId("sidebar"),
    page: byId("main"),
    button: byId<HTMLButtonElement>("menu-button"),
    scrim: byId("scrim"),
    closeButton: byId<HTMLButtonElement>("drawer-close"),
  });
  title.addEventListener("click", () => {
    if (!current) return;
    drawer.open(false);
    sidebar.rename(current.id);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented && current?.busy) current.abort();
  });
  byId("mode").textContent = info.mode === "simulated" ? "Simulated model" : info.mode === "server" ? "Your server" : "DeepInfra";
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
    const named = current ? plainText(meta?.title || firstLine(current)) : "";
    title.textContent = current ? named || "New conversation" : "New chat";
    title.disabled = !current;
    title.title = current ? "Rename" : "";
    topbar.dataset.chat = current ? "open" : "new";
    modelSelect.value = current?.model ?? model;
    // A conversation keeps the model it was started with: say so, rather than leave a disabled control unexplained.
    modelSelect.disabled = current !== undefined;
    const why = current ? "A conversation keeps the model it was started with. Start a new chat to pick another model." : "";
    modelWhy.textContent = why;
    modelPicker.title = why || "The model for this new chat";
    document.title = current && named ? `${named} · edgechat` : "edgechat demo";
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
      if (!streaming) updateMeter();
    });
    live.set(conversation.id, { conversation, unsubscribe });
    return conversation;
  }

  function show(conversation: Conversation | undefined): void {
    current = conversation;
    chat.show(conversation);
    composer.setBusy(conversation?.busy ?? false);
    updateMeter();
    sidebar.render(metas, conversation?.id);
    renderHeader();
    // The URL says what is shown. A user's own choice was already pushed as a history entry (a link, New chat).
    route.replace(conversation?.id);
    drawer.close(false);
  }

  function newChat(): void {
    // A history entry of its own, so Back returns to the conversation that was open.
    route.push(undefined);
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
      // The URL moved on meanwhile (Back, another link): that one is shown instead.
      if (route.current() !== id) return;
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
    // The box keeps its text (and the focus) meanwhile: a second Enter just waits.
    if (creating) return false;
    const content: ContentInput = image ? [...(text ? [{ type: "text" as const, text }] : []), image.image] : text;
    const unsent = { content: content as MessageContent, text, image };
    if (current) {
      // A message refused as too long was never sent: the next one takes its place (a new version of it), so the
      // history before it goes with the request, as the meter said.
      const refused = current.busy ? -1 : refusedAt(current.messages);
      if (refused !== -1) {
        const id = current.messages[refused]!.id;
        return run(current, (c) => c.edit(id, content), unsent);
      }
      return run(current, (c) => c.send(content), unsent);
    }
    creating = true;
    Conversation.create(store, options(model)).then(
      (conversation) => {
        creating = false;
        show(track(conversation));
        run(conversation, (c) => c.send(content), unsent);
      },
      (error) => {
        creating = false;
        composer.restore(text, image);
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
          updateMeter();
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

  // --- the URL ---
  // #id opens that conversation; no hash, a new chat. Links to #id, Back and Forward all land here.
  function follow(id: string | undefined): void {
    if (id === current?.id) return;
    if (id) void open(id);
    else show(undefined);
  }

  // --- start ---
  void refreshList().then(() => follow(route.current()));
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
