// Helpers shared by the portal pages. getApiUrl, getAuthType and getWorkspace are (re)defined by
// partials/theme/required-scripts.html, which knows the values the portal rendered.
window.Kong = window.Kong || {}
window.Kong.Utils = window.Kong.Utils || {}

// [{name, value}, ...] (jQuery's serializeArray) -> {name: value, ...}
window.Kong.Utils.serializeFieldsArrayToObject = function (fieldsArray) {
  var result = {}
  for (var i = 0; i < fieldsArray.length; i++) {
    result[fieldsArray[i].name] = fieldsArray[i].value
  }
  return result
}

// Query-string parameter of the current page, or null.
window.Kong.Utils.getUrlParameter = function (name) {
  var params = new URLSearchParams(window.location.search)
  return params.has(name) ? params.get(name) : null
}

window.Kong.Utils.getApiUrl = function () {
  return ''
}
