// Rejoinder's reply form: the Reply link moves the "Leave a Reply" box under the comment.
// Without this script the same link loads the page with the form set to reply, so nothing
// depends on it.
(function () {
  "use strict";
  var form = document.getElementById("commentform");
  var box = document.getElementById("respond");
  if (!form || !box) return;
  var home = document.createElement("div");  // marks where the box lives when not replying
  home.hidden = true;
  box.parentNode.insertBefore(home, box);
  var parentInput = document.getElementById("parent_id");
  var note = document.getElementById("replying-to");
  var noteName = document.getElementById("replying-to-name");
  var cancel = document.getElementById("cancel-reply");
  var body = document.getElementById("body");
  // The page's language: the server puts this script's strings, translated, on the form.
  var strings = {};
  try {
    strings = JSON.parse(form.getAttribute("data-strings") || "{}");
  } catch (error) {
    strings = {};
  }
  function _(text) {
    return strings[text] || text;
  }

  function isAway() {
    return box.previousSibling !== home;
  }

  function replyTo(link) {
    var item = document.getElementById("comment-" + link.getAttribute("data-reply-to"));
    if (!item) return false;
    var article = item.querySelector(".comment-body");
    article.parentNode.insertBefore(box, article.nextSibling);
    parentInput.value = link.getAttribute("data-reply-to");
    noteName.textContent = link.getAttribute("data-reply-name");
    note.hidden = false;
    body.focus();
    return true;
  }

  function restore() {
    var back = document.getElementById("comment-" + parentInput.value);
    home.parentNode.insertBefore(box, home.nextSibling);
    parentInput.value = "";
    note.hidden = true;
    var replyLink = back && back.querySelector("a.reply");
    (replyLink || body).focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.reply[data-reply-to]");
    if (link && replyTo(link)) {
      event.preventDefault();
    } else if (event.target === cancel && isAway()) {
      event.preventDefault();
      restore();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isAway() && box.contains(document.activeElement)) {
      restore();
    }
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Before posting, ask the server what moderation would say, so the writer can revise.
  // The server still judges the real post; if the check fails, the form posts as usual.
  var checked = null;
  var submit = form.querySelector("button[type=submit]");
  function notice(result) {
    var box = document.getElementById("precheck");
    if (!box) {
      box = document.createElement("div");
      box.id = "precheck";
      box.className = "precheck";
      box.setAttribute("role", "status");
      submit.parentNode.parentNode.insertBefore(box, submit.parentNode);
    }
    box.textContent = "";
    var text = document.createElement("p");
    var why = result.reasons.map(function (r) { return r.message; }).join("; ");
    var sentence = result.verdict === "refuse" ?
      _("This would not be posted because {reasons}. Edit your comment, or post it anyway.") :
      _("This may be held for a moderator because {reasons}. Edit your comment, or post it anyway.");
    text.textContent = sentence.replace("{reasons}", why);
    var edit = document.createElement("button");
    edit.type = "button";
    edit.textContent = _("Edit");
    edit.addEventListener("click", function () { body.focus(); });
    var anyway = document.createElement("button");
    anyway.type = "button";
    anyway.textContent = _("Post anyway");
    anyway.addEventListener("click", function () { form.submit(); });
    box.appendChild(text);
    box.appendChild(edit);
    box.appendChild(anyway);
  }
  form.addEventListener("submit", function (event) {
    if (!window.fetch || !body.value.trim() || checked === body.value) return;
    event.preventDefault();
    checked = body.value;
    fetch("/api/v1/moderation/check?lang=" + encodeURIComponent(document.documentElement.lang), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        text: body.value,
        name: document.getElementById("name").value,
        email: document.getElementById("email").value,
        website: document.getElementById("website").value
      })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (result) {
      if (result && result.verdict !== "publish" && result.reasons.length) {
        notice(result);
      } else {
        form.submit();
      }
    }).catch(function () { form.submit(); });
  });
})();
