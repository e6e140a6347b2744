// Login through the chat: the widget opens the login service's page in a window of its own and
// receives the one-time code of the completed login from it (postMessage), then sends the code
// through its own socket (event "login_code"). The server attaches the login only to the
// conversation the code was issued for, so a login link from someone else's chat logs in nobody
// here (rasa_runtime/channels/login_confirmation.py).
//
// Handshake with login_service/static/login-result.js:
//   login window -> widget  {type: "ba-login-ready"}
//   widget -> login window  {type: "ba-login-hello"}          (to the login service's origin only)
//   login window -> widget  {type: "ba-login-code", code}     (only to an allowed portal origin)
//   widget -> login window  {type: "ba-login-received"}       (the window closes itself)

export const CODE = /^\d{4}-?\d{4}$/;

export function originOf(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.origin : null;
  } catch (_e) {
    return null;
  }
}

export class LoginHandover {
  // win: the page's window; send(code): hands the code to the server (socket event login_code).
  constructor(win, send) {
    this.win = win;
    this.send = send;
    this.serviceOrigin = null; // from session_confirm.login_url
    this.popup = null;
    this.popupOrigin = null;
    this.listening = false;
  }

  setService(url) {
    this.serviceOrigin = typeof url === "string" ? originOf(url) : null;
  }

  // Only the login service's own start pages are opened as a window we listen to.
  isLoginLink(url) {
    if (!this.serviceOrigin || originOf(url) !== this.serviceOrigin) return false;
    try {
      return new URL(url).pathname.startsWith("/login/start/");
    } catch (_e) {
      return false;
    }
  }

  // Called from the link's click handler. Returns true when the window opened (the caller then
  // prevents the link's default: a new tab without opener, where the citizen types the code).
  open(url) {
    if (!this.isLoginLink(url)) return false;
    const popup = this.win.open(url, "buergerassistent-login", "popup=yes,width=560,height=760");
    if (!popup) return false;
    this.popup = popup;
    this.popupOrigin = originOf(url);
    if (!this.listening) {
      this.listening = true;
      this.win.addEventListener("message", (event) => this.onMessage(event));
    }
    return true;
  }

  onMessage(event) {
    if (!this.popup || event.source !== this.popup || event.origin !== this.popupOrigin) return false;
    const data = event.data;
    if (!data || typeof data !== "object") return false;
    if (data.type === "ba-login-ready") {
      this.popup.postMessage({ type: "ba-login-hello" }, this.popupOrigin);
      return true;
    }
    if (data.type === "ba-login-code" && typeof data.code === "string" && CODE.test(data.code)) {
      const popup = this.popup;
      this.popup = null; // one code per window
      this.send(data.code);
      try {
        popup.postMessage({ type: "ba-login-received" }, this.popupOrigin);
      } catch (_e) {
        // closed meanwhile
      }
      return true;
    }
    return false;
  }
}
