// Rejoinder's reply form: the Reply link moves the form under the comment. Without this
// script the same link loads the page with the form set to reply, so nothing depends on it.
(function () {
  "use strict";
  var form = document.getElementById("commentform");
  if (!form) return;
  var home = document.getElementById("respond");
  var parentInput = document.getElementById("parent_id");
  var note = document.getElementById("replying-to");
  var noteName = document.getElementById("replying-to-name");
  var cancel = document.getElementById("cancel-reply");
  var body = document.getElementById("body");

  function replyTo(link) {
    var item = document.getElementById("comment-" + link.getAttribute("data-reply-to"));
    if (!item) return false;
    var article = item.querySelector(".comment-body");
    article.parentNode.insertBefore(form, article.nextSibling);
    parentInput.value = link.getAttribute("data-reply-to");
    noteName.textContent = link.getAttribute("data-reply-name");
    note.hidden = false;
    body.focus();
    return true;
  }

  function restore() {
    home.appendChild(form);
    parentInput.value = "";
    note.hidden = true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.reply[data-reply-to]");
    if (link && replyTo(link)) {
      event.preventDefault();
    } else if (event.target === cancel && form.parentNode !== home) {
      event.preventDefault();
      var back = document.getElementById("comment-" + parentInput.value);
      restore();
      var replyLink = back && back.querySelector("a.reply");
      (replyLink || body).focus();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && form.parentNode !== home && form.contains(document.activeElement)) {
      restore();
    }
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
