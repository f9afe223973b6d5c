/* cookie-light page view counter (demo stub: does nothing) */
(function () { window.__pageview = { path: location.pathname, ts: Date.now() }; })();
