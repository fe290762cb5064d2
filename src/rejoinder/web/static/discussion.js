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
})();
