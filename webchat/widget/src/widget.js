// The chat widget: launcher button + non-modal dialog, talking socket.io (Rasa's protocol) to
// rasa_runtime/channels/webchat. The browser keeps only the signed session token (localStorage, so reloads
// and other tabs continue the same conversation); the messages come from the server's history.
import { io } from "socket.io-client";
import { TEXTS } from "./i18n.js";
import { CSS } from "./styles.js";
import { LoginHandover } from "./login.js";
import { appendText, externalLink, hostAllowed, safeUrl } from "./text.js";

const TOKEN_KEY = "buergerassistent.session";
const LANG_KEY = "buergerassistent.lang";
const OPEN_KEY = "buergerassistent.open";
const UPLOAD_TYPES = { "application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png" };
const UPLOAD_EXT = /\.(pdf|jpe?g|png)$/i;

function storage(kind) {
  try {
    const s = window[kind];
    s.setItem("buergerassistent.probe", "1");
    s.removeItem("buergerassistent.probe");
    return s;
  } catch (_e) {
    return null; // private mode or blocked: the chat still works for this page view
  }
}

function el(doc, tag, attrs = {}, text) {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    node.setAttribute(k, v === true ? "" : String(v));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

// Inline SVG icons: emoji fonts are missing on many systems (boxes instead of symbols).
const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  clip: "M16.5 6.5l-7.8 7.8a2 2 0 1 0 2.8 2.8l8-8a4 4 0 0 0-5.7-5.7l-8.3 8.3a6 6 0 0 0 8.5 8.5l7-7",
};

function icon(doc, name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = doc.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "1.2em");
  svg.setAttribute("height", "1.2em");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = doc.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.appendChild(path);
  return svg;
}

// A random id per message (rasa_runtime/channels/webchat/channel.py): the server answers a
// message sent again with the same id from the saved turn instead of processing it twice.
// getRandomValues also works on pages without HTTPS (randomUUID does not).
function messageId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function hostOf(url) {
  try {
    return new URL(url).hostname;
  } catch (_e) {
    return null;
  }
}

export class ChatWidget {
  // The portal signs its login for this conversation; the server checks signature, audience,
  // conversation and single use (buergerassistent/identity.py accept_portal_token).
  async handOverPortalLogin(conversationId) {
    const url = this.config.portalTokenUrl;
    if (!url || this.portalHandedOver === conversationId) return;
    this.portalHandedOver = conversationId;
    try {
      const sep = url.includes("?") ? "&" : "?";
      const resp = await fetch(`${url}${sep}cid=${encodeURIComponent(conversationId)}`, { credentials: "include" });
      if (!resp.ok) return; // not logged in to the portal: nothing to hand over
      const body = await resp.json();
      if (body && typeof body.token === "string") this.socket.emit("portal_identity", { token: body.token });
    } catch (e) {
      // The portal did not answer: the citizen can still log in from the chat.
    }
  }

  constructor(config) {
    this.config = config;
    this.local = storage("localStorage");
    this.sessionStore = storage("sessionStorage");
    this.lang = (this.local && this.local.getItem(LANG_KEY)) || config.lang;
    this.token = this.local ? this.local.getItem(TOKEN_KEY) : null;
    this.socket = null;
    this.ready = false; // session confirmed and history received
    this.outbox = []; // messages to send (written while offline, or to send again): {id, payload, display}
    // Messages sent whose turn the server has not confirmed (socket.io ack), by id: sent again
    // after a reconnect unless the server's history shows them (their turn was saved).
    this.unanswered = new Map();
    // Ids of messages whose answer this tab has shown: a repeated answer (the server's saved
    // turn for a message sent again) is then not shown twice; and user messages shown by id.
    this.answeredIds = new Set();
    this.shownIds = new Set();
    this.unread = 0;
    this.requesting = false; // a session_request is on its way
    this.afterHistory = null; // notice to show once the next history has been drawn
    this.loginCodes = []; // codes from the login window, sent once the session is ready
    this.login = new LoginHandover(window, (code) => {
      this.loginCodes.push(code);
      this.flush();
    });
    // Hosts messages may link to: the page's data-link-hosts and the server's list
    // (session_confirm); until the server answered, the chat server's own host.
    this.configuredHosts = config.linkHosts || [];
    this.linkHosts = new Set([...this.configuredHosts, hostOf(config.server)].filter(Boolean));
    // Buttons on the greeting (the server's catalogue/starter_topics.yaml, via session_confirm).
    this.starterTopics = [];
    this.summaryCount = 0;
  }

  get t() {
    return TEXTS[this.lang] || TEXTS.de;
  }

  // --- DOM ----------------------------------------------------------------------------------
  mount(parent) {
    const doc = document;
    this.doc = doc;
    this.host = el(doc, "aside", { id: "buergerassistent-chat" });
    const root = this.host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // not an inline <style>: works under a strict Content-Security-Policy
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el(doc, "style", {}, CSS));
    }
    const wrap = el(doc, "div", { class: "ba" });
    root.appendChild(wrap);

    this.launcher = el(doc, "button", { type: "button", class: "ba-launcher", "aria-expanded": "false", "aria-controls": "ba-dialog" });
    this.launcherText = el(doc, "span");
    this.badge = el(doc, "span", { class: "ba-badge", hidden: true });
    this.launcher.append(icon(doc, "chat"), this.launcherText, this.badge);

    this.dialog = el(doc, "div", { id: "ba-dialog", class: "ba-dialog", role: "dialog", "aria-modal": "false", "aria-labelledby": "ba-title", hidden: true });
    const head = el(doc, "div", { class: "ba-head" });
    this.title = el(doc, "h2", { id: "ba-title" });
    this.titleText = el(doc, "span");
    this.subtitle = el(doc, "span", { class: "ba-sub" });
    this.title.append(this.titleText, this.subtitle);
    this.langButton = el(doc, "button", { type: "button", class: "ba-lang" });
    this.deleteButton = el(doc, "button", { type: "button", class: "ba-delete" });
    this.closeButton = el(doc, "button", { type: "button", class: "ba-close" });
    head.append(this.title, this.langButton, this.deleteButton, this.closeButton);

    this.confirm = el(doc, "div", { class: "ba-confirm", role: "group", "aria-labelledby": "ba-confirm-text", hidden: true });
    this.confirmText = el(doc, "p", { id: "ba-confirm-text" });
    this.confirmYes = el(doc, "button", { type: "button", class: "ba-option ba-confirm-yes" });
    this.confirmNo = el(doc, "button", { type: "button", class: "ba-option ba-confirm-no" });
    const confirmButtons = el(doc, "div", { class: "ba-options" });
    confirmButtons.append(this.confirmYes, this.confirmNo);
    this.confirm.append(this.confirmText, confirmButtons);

    this.status = el(doc, "p", { class: "ba-status", role: "status" });
    this.log = el(doc, "ol", { class: "ba-log", tabindex: "0" });
    this.typing = el(doc, "p", { class: "ba-typing", hidden: true });
    // Screen readers hear each new bot message once, not the whole history after a reload.
    this.live = el(doc, "div", { class: "ba-sr", "aria-live": "polite", "aria-atomic": "false" });

    this.form = el(doc, "form", { class: "ba-form" });
    this.inputLabel = el(doc, "label", { for: "ba-input", class: "ba-sr" });
    this.input = el(doc, "textarea", { id: "ba-input", rows: "1", autocomplete: "off", maxlength: String(this.config.maxChars) });
    this.fileInput = el(doc, "input", { type: "file", hidden: true, tabindex: "-1", "aria-hidden": "true", accept: ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" });
    this.attachButton = el(doc, "button", { type: "button", class: "ba-attach", "aria-describedby": "ba-upload-hint" });
    this.attachButton.append(icon(doc, "clip"), el(doc, "span", { class: "ba-sr ba-attach-label" }));
    this.sendButton = el(doc, "button", { type: "submit", class: "ba-send" });
    this.form.append(this.inputLabel, this.input, this.fileInput, this.attachButton, this.sendButton);
    this.note = el(doc, "p", { class: "ba-note" });
    this.uploadHint = el(doc, "span", { id: "ba-upload-hint" });
    this.noteText = el(doc, "span");
    this.note.append(this.noteText, doc.createTextNode(" "), this.uploadHint);

    this.dialog.append(head, this.confirm, this.status, this.log, this.typing, this.live, this.form, this.note);
    wrap.append(this.launcher, this.dialog);
    parent.appendChild(this.host);

    this.bind();
    this.applyLanguage();
    this.renderMessages([]);
    if (this.sessionStore && this.sessionStore.getItem(OPEN_KEY) === "1") this.open(false);
    // A returning visitor connects at once, so messages sent to them meanwhile show up.
    if (this.token) this.connect();
    return this;
  }

  bind() {
    this.launcher.addEventListener("click", () => this.open(true));
    this.closeButton.addEventListener("click", () => this.close());
    this.dialog.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        if (!this.confirm.hidden) this.hideConfirm();
        else this.close();
      }
    });
    this.langButton.addEventListener("click", () => {
      this.lang = this.lang === "de" ? "en" : "de";
      if (this.local) this.local.setItem(LANG_KEY, this.lang);
      this.applyLanguage();
      this.langButton.focus();
    });
    this.deleteButton.addEventListener("click", () => this.showConfirm());
    this.confirmNo.addEventListener("click", () => this.hideConfirm());
    this.confirmYes.addEventListener("click", () => this.deleteConversation());
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submitInput();
    });
    this.input.addEventListener("keydown", (e) => {
      // Enter sends, Shift+Enter makes a new line.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submitInput();
      }
    });
    this.attachButton.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      this.fileInput.value = "";
      if (file) this.upload(file);
    });
    // Another tab deleted the conversation or started a new one.
    window.addEventListener("storage", (e) => {
      if (e.key === TOKEN_KEY && e.newValue && e.newValue !== this.token) {
        this.token = e.newValue;
        if (this.socket && this.socket.connected) this.requestSession();
      }
    });
  }

  // The citizen switched the language in words ("English please", "in Leichter Sprache", issue 20):
  // the widget's own texts follow (Leichte Sprache is German to the widget).
  followLanguage(language) {
    const lang = language === "en" ? "en" : language === "de" || language === "ls" ? "de" : null;
    if (!lang || lang === this.lang) return;
    this.lang = lang;
    if (this.local) this.local.setItem(LANG_KEY, this.lang);
    this.applyLanguage();
  }

  applyLanguage() {
    const t = this.t;
    this.host.setAttribute("lang", this.lang);
    this.launcherText.textContent = t.launcher;
    this.updateBadge();
    this.titleText.textContent = t.title;
    this.subtitle.textContent = t.subtitle;
    this.langButton.textContent = t.switchLang;
    this.langButton.setAttribute("lang", this.lang === "de" ? "en" : "de");
    this.langButton.setAttribute("aria-label", t.switchLangLabel);
    this.deleteButton.textContent = t.del;
    this.closeButton.textContent = "✕";
    this.closeButton.setAttribute("aria-label", t.close);
    this.closeButton.setAttribute("title", t.close);
    this.confirmText.textContent = t.confirmDelete;
    this.confirmYes.textContent = t.confirmYes;
    this.confirmNo.textContent = t.confirmNo;
    this.log.setAttribute("aria-label", t.history);
    this.inputLabel.textContent = t.inputLabel;
    this.input.setAttribute("placeholder", t.placeholder);
    this.sendButton.textContent = t.send;
    this.attachButton.querySelector(".ba-attach-label").textContent = t.upload;
    this.attachButton.setAttribute("title", t.upload);
    this.uploadHint.textContent = t.uploadHint("PDF, JPG, PNG", this.config.maxUploadMb);
    this.noteText.textContent = t.note;
    this.typing.textContent = t.typing;
    if (this.status.textContent) this.status.textContent = t.offline;
    const intro = this.log.querySelector(".ba-intro-text");
    if (intro) intro.textContent = t.intro;
    const topics = this.log.querySelector(".ba-intro .ba-options");
    if (topics) topics.setAttribute("aria-label", t.starterTopics);
    this.log.querySelectorAll(".ba-case-label").forEach((n) => { n.textContent = t.caseNumber; });
    this.log.querySelectorAll(".ba-copy-text").forEach((b) => { b.textContent = t.copy; });
    this.log.querySelectorAll(".ba-copy-what").forEach((b) => { b.textContent = ` ${t.copyWhat(b.closest(".ba-case").querySelector(".ba-case-number").textContent)}`; });
    this.log.querySelectorAll(".ba-who").forEach((w) => {
      w.textContent = `${w.dataset.sender === "user" ? t.you : t.bot} `;
    });
  }

  updateBadge() {
    const t = this.t;
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = this.unread ? String(this.unread) : "";
    this.launcher.setAttribute("aria-label", this.unread ? `${t.launcher}, ${t.unread(this.unread)}` : t.launcher);
  }

  open(focus) {
    this.dialog.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute("aria-expanded", "true");
    this.unread = 0;
    this.updateBadge();
    if (this.sessionStore) this.sessionStore.setItem(OPEN_KEY, "1");
    this.connect();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close() {
    this.dialog.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    if (this.sessionStore) this.sessionStore.removeItem(OPEN_KEY);
    this.launcher.focus();
  }

  showConfirm() {
    this.confirm.hidden = false;
    this.confirmNo.focus();
  }

  hideConfirm() {
    this.confirm.hidden = true;
    this.deleteButton.focus();
  }

  // --- messages -----------------------------------------------------------------------------
  renderMessages(messages) {
    this.log.replaceChildren();
    this.addIntro();
    for (const m of messages) {
      if (m.sender === "user") {
        this.addUser(m.text);
        if (typeof m.id === "string") {
          // Its turn is saved, the answer is in this history.
          this.shownIds.add(m.id);
          this.answeredIds.add(m.id);
        }
      } else this.addBot(m, false);
    }
    // Only the answer options of the last message can still be used.
    const last = this.log.lastElementChild;
    if (!last || !last.classList.contains("bot")) this.disableOldOptions();
    if (messages.length) this.disableIntroOptions();
    this.scrollToEnd();
  }

  // The greeting: the assistant speaking, with the starter topics as buttons.
  addIntro() {
    const li = this.addItem("bot ba-intro", "bot");
    li.appendChild(el(this.doc, "span", { class: "ba-text ba-intro-text" }, this.t.intro));
    this.renderIntroOptions(li);
    return li;
  }

  renderIntroOptions(li = this.log.querySelector(".ba-intro")) {
    if (!li) return;
    const old = li.querySelector(".ba-options");
    if (old) old.remove();
    if (!this.starterTopics.length) return;
    const group = el(this.doc, "div", { class: "ba-options", role: "group", "aria-label": this.t.starterTopics });
    for (const topic of this.starterTopics) {
      const b = el(this.doc, "button", { type: "button", class: "ba-option" }, topic.title);
      // A starter topic is sent as the words it stands for, like a typed message.
      b.addEventListener("click", () => {
        this.send(topic.payload, topic.title);
        this.input.focus();
      });
      group.appendChild(b);
    }
    li.appendChild(group);
    if (li.nextElementSibling) this.disableIntroOptions();
  }

  disableIntroOptions() {
    this.log.querySelectorAll(".ba-intro button.ba-option").forEach((b) => {
      b.disabled = true;
    });
  }

  addItem(kind, sender) {
    const li = el(this.doc, "li", { class: `ba-msg ${kind}` });
    const who = el(this.doc, "span", { class: "ba-sr ba-who", "data-sender": sender }, `${sender === "user" ? this.t.you : this.t.bot} `);
    li.appendChild(who);
    this.log.appendChild(li);
    return li;
  }

  addUser(text) {
    const li = this.addItem("user", "user");
    // Whatever the user typed is text, never markup.
    li.appendChild(this.doc.createTextNode(String(text ?? "")));
    this.scrollToEnd();
    return li;
  }

  addBot(message, announce) {
    const text = typeof message.text === "string" ? message.text : "";
    const replies = Array.isArray(message.quick_replies) ? message.quick_replies : Array.isArray(message.buttons) ? message.buttons : [];
    if (!text && !replies.length) return null;
    const li = this.addItem("bot", "bot");
    // The language of the text, as the assistant marks it (issue 20); German unless it says English.
    li.setAttribute("lang", message.lang === "en" ? "en" : "de");
    const custom = message.custom && typeof message.custom === "object" ? message.custom : {};
    if (custom.type === "language") this.followLanguage(custom.language);
    if (custom.type === "summary" && Array.isArray(custom.rows)) {
      li.classList.add("ba-summary-msg");
      li.appendChild(this.summaryTable(text, custom));
    } else {
      const body = el(this.doc, "span", { class: "ba-text" });
      appendText(this.doc, body, text, this.t.newWindow, this.linkHosts);
      li.appendChild(body);
    }
    if (custom.type === "case_number" && typeof custom.case_number === "string" && custom.case_number) {
      li.appendChild(this.caseNumberBox(custom.case_number));
    }
    if (replies.length) {
      const group = el(this.doc, "div", { class: "ba-options", role: "group", "aria-label": this.t.options });
      for (const r of replies) {
        const title = String(r.title ?? "");
        const isUrl = /^https?:/i.test(String(r.payload ?? ""));
        const url = isUrl ? safeUrl(r.payload) : null;
        if (isUrl && !(url && hostAllowed(url, this.linkHosts))) continue; // a foreign site: no button
        if (url) {
          // A button whose payload is a web address (e.g. the login) opens that page.
          const a = externalLink(this.doc, url, title, this.t.newWindow);
          a.className = "ba-option";
          // Our login: a window that hands the login code back to this chat (login.js).
          if (this.login.isLoginLink(url)) {
            a.addEventListener("click", (event) => {
              if (this.login.open(url)) event.preventDefault();
            });
          }
          group.appendChild(a);
        } else {
          const style = r.style === "primary" ? " ba-primary" : "";
          const b = el(this.doc, "button", { type: "button", class: `ba-option${style}` }, title);
          b.addEventListener("click", () => {
            this.send(String(r.payload ?? title), title);
            this.input.focus();
          });
          group.appendChild(b);
        }
      }
      li.appendChild(group);
    }
    if (announce) this.announce(`${this.t.bot} ${text} ${replies.map((r) => r.title).join(", ")}`);
    this.reveal(li);
    return li;
  }

  // The summary before submission: its first line as the heading, then label/value rows. Values
  // are text nodes, never markup.
  summaryTable(text, custom) {
    const doc = this.doc;
    const wrap = el(doc, "div", { class: "ba-text" });
    const heading = String(text || custom.title || "").split("\n")[0];
    const headingId = `ba-summary-${++this.summaryCount}`;
    wrap.appendChild(el(doc, "p", { class: "ba-summary-title", id: headingId }, heading));
    const table = el(doc, "table", { class: "ba-summary", "aria-labelledby": headingId });
    const body = el(doc, "tbody");
    for (const row of custom.rows) {
      if (!row || typeof row !== "object") continue;
      const tr = el(doc, "tr");
      tr.append(el(doc, "th", { scope: "row" }, String(row.label ?? "")), el(doc, "td", {}, String(row.value ?? "")));
      body.appendChild(tr);
    }
    table.appendChild(body);
    wrap.appendChild(table);
    return wrap;
  }

  // The case number stands out and can be copied with one click (announced to screen readers).
  caseNumberBox(number) {
    const doc = this.doc;
    const box = el(doc, "div", { class: "ba-case" });
    const label = el(doc, "span", { class: "ba-case-label" }, this.t.caseNumber);
    const value = el(doc, "strong", { class: "ba-case-number" }, number);
    // Visible word + hidden number: the accessible name starts with what is seen (WCAG 2.5.3).
    const copy = el(doc, "button", { type: "button", class: "ba-copy" });
    const copyText = el(doc, "span", { class: "ba-copy-text" }, this.t.copy);
    copy.append(copyText, el(doc, "span", { class: "ba-sr ba-copy-what" }, ` ${this.t.copyWhat(number)}`));
    copy.addEventListener("click", async () => {
      let done = false;
      try {
        await navigator.clipboard.writeText(number);
        done = true;
      } catch (_e) {
        // No clipboard permission: select the number so Ctrl+C copies it.
        const range = doc.createRange();
        range.selectNodeContents(value);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      copyText.textContent = done ? this.t.copied : this.t.copySelect;
      this.announce(done ? this.t.copiedLong(number) : this.t.copySelect);
      setTimeout(() => { copyText.textContent = this.t.copy; }, 4000);
    });
    box.append(label, doc.createTextNode(" "), value, doc.createTextNode(" "), copy);
    return box;
  }

  // A new answer is read from its beginning: when this turn's answers are taller than the log,
  // show the top of the first one instead of the end of the last.
  reveal(li) {
    let start = li;
    while (start.previousElementSibling && start.previousElementSibling.classList.contains("bot")
      && !start.previousElementSibling.classList.contains("ba-intro")) {
      start = start.previousElementSibling;
    }
    const box = this.log.getBoundingClientRect();
    const top = start.getBoundingClientRect().top - box.top + this.log.scrollTop;
    const bottom = li.getBoundingClientRect().bottom - box.top + this.log.scrollTop;
    if (bottom - top > this.log.clientHeight - 16) this.log.scrollTop = Math.max(0, top - 8);
    else this.scrollToEnd();
  }

  addNotice(text, kind = "error", announce = true) {
    const li = el(this.doc, "li", { class: `ba-msg ${kind}` }, text);
    this.log.appendChild(li);
    if (announce) this.announce(text);
    this.scrollToEnd();
  }

  announce(text) {
    const p = el(this.doc, "p", {}, text);
    this.live.appendChild(p);
    // Read once, then gone: the log already holds the message for reading again.
    setTimeout(() => p.remove(), 10000);
  }

  disableOldOptions() {
    this.log.querySelectorAll("button.ba-option").forEach((b) => {
      b.disabled = true;
    });
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  submitInput() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > this.config.maxChars) {
      this.addNotice(this.t.tooLong(this.config.maxChars));
      return;
    }
    this.input.value = "";
    this.send(text, text);
  }

  send(payload, display) {
    this.disableOldOptions();
    this.addUser(display);
    const id = messageId();
    this.shownIds.add(id);
    this.outbox.push({ id, payload, display });
    this.flush();
  }

  // The socket dropped: what it sent without a confirmation goes back to the front of the
  // outbox, in order, to be sent again with the same id after the reconnect.
  requeueUnanswered() {
    if (!this.unanswered.size) return;
    const again = [...this.unanswered.values()];
    this.unanswered.clear();
    const queued = new Set(this.outbox.map((m) => m.id));
    this.outbox = [...again.filter((m) => !queued.has(m.id)), ...this.outbox];
  }

  flush() {
    if (!this.socket) {
      this.connect();
      return;
    }
    if (!this.socket.connected) return; // sent after the reconnect
    if (!this.ready) {
      if (!this.requesting) this.requestSession();
      return;
    }
    while (this.loginCodes.length) {
      this.socket.emit("login_code", { code: this.loginCodes.shift() });
    }
    while (this.outbox.length) {
      const entry = this.outbox.shift();
      const { id, payload, display } = entry;
      this.unanswered.set(id, entry);
      const socket = this.socket;
      // The ack comes when the turn has ended (saved, or answered with a notice).
      socket.emit("user_uttered", {
        message: payload,
        message_id: id,
        session_id: this.token,
        metadata: { display_text: display.slice(0, 200), lang: this.lang },
      }, () => {
        if (this.unanswered.get(id) === entry) this.unanswered.delete(id);
      });
    }
  }

  // --- connection ---------------------------------------------------------------------------
  connect() {
    if (this.socket) return;
    this.socket = io(this.config.server, {
      path: this.config.socketPath,
      transports: ["websocket", "polling"],
      tryAllTransports: true, // networks that block WebSockets fall back to long-polling
    });
    const s = this.socket;
    s.on("connect", () => {
      this.status.textContent = "";
      this.requestSession();
    });
    s.on("disconnect", () => {
      this.requeueUnanswered();
      this.ready = false;
      this.typing.hidden = true;
      this.status.textContent = this.t.offline;
    });
    s.on("session_confirm", (data) => {
      const token = data && data.session_id ? data.session_id : data;
      if (typeof token === "string") {
        this.token = token;
        if (this.local) this.local.setItem(TOKEN_KEY, token);
      }
      if (data && typeof data.login_url === "string") this.login.setService(data.login_url);
      if (data && Array.isArray(data.link_hosts)) {
        this.linkHosts = new Set([...this.configuredHosts, ...data.link_hosts.filter((h) => typeof h === "string")]);
      }
      if (data && Array.isArray(data.starter_topics)) {
        this.starterTopics = data.starter_topics.filter((t) => t && typeof t.title === "string" && typeof t.payload === "string");
        this.renderIntroOptions();
      }
      if (data && data.conversation_id) this.handOverPortalLogin(data.conversation_id);
    });
    s.on("history", (data) => {
      // The server's record is complete (also what arrived while we were offline); messages
      // still waiting in the outbox are shown after it and sent now.
      const messages = (data && Array.isArray(data.messages)) ? data.messages : [];
      this.renderMessages(messages);
      if (this.afterHistory) {
        this.addNotice(this.afterHistory, "info", false);
        this.afterHistory = null;
      }
      // A message whose turn the history holds was processed before the socket dropped: its
      // answer is shown above, it is not sent again.
      this.requeueUnanswered();
      const saved = new Set(messages.filter((m) => m.sender === "user" && typeof m.id === "string").map((m) => m.id));
      this.outbox = this.outbox.filter((m) => !saved.has(m.id));
      for (const m of this.outbox) this.addUser(m.display);
      this.requesting = false;
      this.ready = true;
      this.flush();
    });
    s.on("bot_uttered", (message) => {
      this.typing.hidden = true;
      if (message && typeof message === "object") {
        const replyTo = typeof message.reply_to === "string" ? message.reply_to : null;
        if (replyTo && message.repeated) {
          // The saved answer to a message sent again: shown only if the first one never came.
          if (this.answeredIds.has(replyTo)) return;
        } else if (replyTo) this.answeredIds.add(replyTo);
        this.addBot(message, true);
        if (this.dialog.hidden) {
          this.unread += 1;
          this.updateBadge();
        }
      }
    });
    s.on("user_echo", (data) => {
      if (data && typeof data.text === "string") {
        if (typeof data.id === "string") {
          if (this.shownIds.has(data.id)) return; // sent again by the other tab: shown already
          this.shownIds.add(data.id);
        }
        this.disableOldOptions();
        this.addUser(data.text);
      }
    });
    s.on("bot_typing", (data) => {
      this.typing.hidden = !(data && data.typing);
      if (!this.typing.hidden) this.scrollToEnd();
    });
    s.on("session_deleted", () => this.resetLocal(this.deleting));
  }

  requestSession() {
    this.ready = false;
    this.requesting = true;
    this.socket.emit("session_request", { session_id: this.token });
  }

  resetLocal(initiator) {
    // Only the tab that deleted starts the next conversation; the others take its new token
    // (storage event) or ask for one when the user writes again.
    this.deleting = false;
    this.ready = false;
    this.requesting = false;
    this.token = null;
    if (initiator && this.local) this.local.removeItem(TOKEN_KEY);
    this.outbox = [];
    this.unanswered.clear();
    this.typing.hidden = true;
    this.renderMessages([]);
    this.addNotice(this.t.deleted, "info");
    this.afterHistory = this.t.deleted; // kept visible when the new (empty) history is drawn
    if (initiator && this.socket && this.socket.connected) this.requestSession();
  }

  deleteConversation() {
    this.confirm.hidden = true;
    if (this.socket && this.socket.connected && this.ready) {
      // The server deletes and answers with session_deleted (to every tab of this conversation).
      this.deleting = true;
      this.socket.emit("session_delete", {});
    } else {
      this.resetLocal(true);
    }
    this.input.focus();
  }

  async upload(file) {
    const t = this.t;
    const mb = this.config.maxUploadMb;
    if (file.size > mb * 1024 * 1024) {
      this.addNotice(t.uploadTooBig(mb));
      return;
    }
    if (!(file.type in UPLOAD_TYPES) && !UPLOAD_EXT.test(file.name)) {
      this.addNotice(t.uploadBadType("PDF, JPG, PNG"));
      return;
    }
    if (!this.token) {
      this.addNotice(t.uploadFailed);
      return;
    }
    this.addUser(t.uploadSent(file.name));
    try {
      const resp = await fetch(`${this.config.server.replace(/\/$/, "")}/webhooks/webchat/upload`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.token}`,
          "Content-Type": file.type || "application/octet-stream",
          "X-File-Name": encodeURIComponent(file.name),
        },
        body: file,
      });
      if (!resp.ok) {
        let message = t.uploadFailed;
        try {
          const body = await resp.json();
          if (body && typeof body.message === "string") message = body.message;
        } catch (_e) { /* keep the general message */ }
        this.addNotice(message);
      }
    } catch (_e) {
      this.addNotice(t.uploadFailed);
    }
  }
}
