// The page's controller: which conversation is open, sending and stopping, and keeping the list, the meter
// and the composer in step. Conversations stay in memory once opened, so one can keep streaming (and saving)
// while another is on screen.
import { type ContentInput, Conversation, type ConversationMeta, type ConversationOptions, createClient, type Reply, StorageError, type UserMessage } from "edgechat";
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
    regenerate: () => current && run(current, (c) => c.regenerate()),
    continue: () => current && run(current, (c) => c.continue()),
    edit: (message, text) => current && run(current, (c) => c.edit(message.id, editedContent(message, text))),
    loadOlder: () => void current?.loadOlder().catch((error) => notices.error(error)),
  });
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

  // Another tab changed the database: refresh the list; drop (or re-read, if on screen and idle) our copy.
  const reloads = new Map<string, ReturnType<typeof setTimeout>>();
  store.onChange((change) => {
    refreshSoon();
    const entry = live.get(change.id);
    if (!entry || entry.conversation.busy || change.kind === "rename" || change.kind === "calibration") return;
    clearTimeout(reloads.get(change.id));
    reloads.set(
      change.id,
      setTimeout(() => {
        reloads.delete(change.id);
        if (entry.conversation.busy || live.get(change.id) !== entry) return;
        entry.unsubscribe();
        live.delete(change.id);
        if (current?.id !== change.id) return;
        if (change.kind === "delete") {
          show(undefined);
          notices.show({ tone: "info", title: "This conversation was deleted in another tab" });
        } else void open(change.id);
      }, 250),
    );
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
      if (conversation === current && change.type !== "update") meter.update(current, draft);
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

  async function remove(id: string): Promise<void> {
    const entry = live.get(id);
    if (entry) {
      // Stop saving it first, so a reply that is still streaming does not write into a deleted conversation.
      entry.unsubscribe();
      entry.conversation.abort();
      live.delete(id);
    }
    try {
      await store.delete(id);
    } catch (error) {
      notices.error(error);
    }
    if (current?.id === id) show(undefined);
    await refreshList();
  }

  // --- sending ---
  function send(text: string, image: Attachment | undefined): boolean {
    if (creating || current?.busy) return false;
    const content: ContentInput = image ? [...(text ? [{ type: "text" as const, text }] : []), image.image] : text;
    if (current) return run(current, (c) => c.send(content));
    creating = true;
    composer.setEnabled(false);
    Conversation.create(store, options(model)).then(
      (conversation) => {
        creating = false;
        composer.setEnabled(true);
        show(track(conversation));
        run(conversation, (c) => c.send(content));
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

  /** Start a reply and follow it to the end. False if it could not start (the error is shown). */
  function run(conversation: Conversation, start: (c: Conversation) => Reply): boolean {
    let reply: Reply;
    try {
      reply = start(conversation);
    } catch (error) {
      notices.error(error);
      return false;
    }
    notices.clear();
    if (conversation === current) composer.setBusy(true);
    chat.refresh();
    reply.done
      .catch((error: unknown) => {
        // Most failures end the reply with a status shown on the message itself; the others need a notice —
        // except a storage failure, already shown (with "Retry saving") by the conversation's storage-error event.
        const last = conversation.messages[conversation.messages.length - 1];
        const recorded = last?.role === "assistant" && (last.status === "error" || last.status === "interrupted");
        if (!recorded && !(error instanceof StorageError)) notices.error(error);
      })
      .finally(() => {
        notices.clearRetry();
        if (conversation === current) {
          composer.setBusy(false);
          meter.update(conversation, draft);
        }
        chat.refresh();
        refreshSoon();
      });
    return true;
  }

  // --- start ---
  void refreshList().then(() => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id) void open(id);
    else show(undefined);
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
