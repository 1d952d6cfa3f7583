// The portal's global namespace; kong.utils.js and kong.auth.js hang their helpers on it.
window.Kong = {}
