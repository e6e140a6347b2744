// Entry point: <script src=".../buergerassistent-chat.js" data-server="https://chat.example"></script>
// Optional: data-socket-path (default /socket.io), data-lang (de|en), data-max-upload-mb (10),
// data-portal-token-url: a URL of the portal (same site, the citizen's portal cookie) that
// answers GET ?cid=<conversation id> with {"token": "<JWT>"} when the citizen is logged in to
// the portal; the chat then takes over that login (no second login).
// data-link-hosts: extra hosts (comma-separated) bot messages may link to, besides the server's list.
import { ChatWidget } from "./widget.js";

(function mount() {
  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  const scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const config = {
    server: data.server || scriptOrigin,
    socketPath: data.socketPath || "/socket.io",
    lang: data.lang === "en" ? "en" : "de",
    maxUploadMb: Number(data.maxUploadMb) || 10,
    maxChars: Number(data.maxChars) || 2000,
    portalTokenUrl: data.portalTokenUrl || "",
    linkHosts: (data.linkHosts || "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean),
  };
  const start = () => {
    if (document.getElementById("buergerassistent-chat")) return;
    window.Buergerassistent = new ChatWidget(config).mount(document.body);
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
