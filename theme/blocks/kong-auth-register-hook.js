/* BEGIN kong-portal-monetization register-hook v1.0.0 */
;(function () {
  try {
    var monetization = window.PortalMonetization;
    var kong = window.Kong;
    if (monetization && typeof monetization.wrapRegister === 'function' && kong && kong.Auth) monetization.wrapRegister(kong.Auth);
    else if (window.console) console.warn('kong-portal-monetization: monetization.js is not loaded; signup billing is off on this page');
  } catch (error) {
    if (window.console) console.warn('kong-portal-monetization: register hook failed', error);
  }
})();
/* END kong-portal-monetization register-hook v1.0.0 */
