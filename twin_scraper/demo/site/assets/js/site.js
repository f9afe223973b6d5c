/* Notebook theme 2.4.1 - menu toggle and copy-link button */
(function () {
  var toggle = document.querySelector('.menu-toggle');
  if (toggle) {
    toggle.addEventListener('click', function () {
      var menu = document.getElementById('primary-menu');
      var open = toggle.getAttribute('aria-expanded') === 'true';
      toggle.setAttribute('aria-expanded', String(!open));
      menu.style.display = open ? '' : 'flex';
    });
  }
  document.querySelectorAll('.share-btn--copy').forEach(function (btn) {
    btn.addEventListener('click', function () {
      navigator.clipboard && navigator.clipboard.writeText(btn.dataset.clipboard);
      btn.textContent = 'Copied!';
    });
  });
})();
