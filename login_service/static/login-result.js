// Result page of the login service: hands the one-time login code back to the chat widget that
// opened this window, and to nothing else.
//
// Handshake (the code is never sent to an origin we have not checked):
//   this window  -> opener   {type: "ba-login-ready"}            (targetOrigin "*": carries no secret)
//   widget       -> this     {type: "ba-login-hello"}            (the widget checked our origin)
//   this window  -> opener   {type: "ba-login-code", code}       (only to the hello's origin, and only
//                                                                  if it is an allowed portal origin)
//   widget       -> this     {type: "ba-login-received"}         -> we close ourselves
// Without an opener (link opened elsewhere, other device) or without a hello from an allowed
// origin nothing happens: the page shows the code for the citizen to type into the chat.
(function () {
  "use strict";
  var node = document.getElementById("login-handover");
  var opener = window.opener;
  if (!node || !opener) return;
  var code = node.getAttribute("data-code") || "";
  var origins = [];
  try {
    origins = JSON.parse(node.getAttribute("data-origins") || "[]");
  } catch (e) {
    origins = [];
  }
  var loopback = node.getAttribute("data-loopback") === "1";
  var LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

  function allowed(origin) {
    if (typeof origin !== "string" || origin === "null") return false;
    return origins.indexOf(origin) >= 0 || (loopback && LOOPBACK.test(origin));
  }

  var sent = false;
  window.addEventListener("message", function (event) {
    if (event.source !== opener || !allowed(event.origin)) return;
    var data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.type === "ba-login-hello" && !sent) {
      sent = true;
      opener.postMessage({ type: "ba-login-code", code: code }, event.origin);
    } else if (data.type === "ba-login-received" && sent) {
      var done = document.getElementById("login-done");
      if (done) done.hidden = false;
      window.close(); // allowed: the widget opened this window
    }
  });
  try {
    opener.postMessage({ type: "ba-login-ready" }, "*");
  } catch (e) {
    // The opener is gone or no longer reachable: the citizen types the code.
  }
})();
