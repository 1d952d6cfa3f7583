// Developer authentication against the portal API: register, login (session cookie), logout.
// The register contract matches Kong's base theme: options {baseUrl, type, fields}, where fields
// is a form's serializeArray(); names listed in type.FIELDS are sent as they are, every other
// field goes into `meta`, sent as a JSON string; the POST is form-encoded (jQuery's default).
// It resolves with the portal API's answer ({developer: {...}}) and rejects with
// {message, xhr, ajaxOptions, throwError}.
window.Kong = window.Kong || {}
window.Kong.Auth = window.Kong.Auth || {}

window.Kong.Auth.LOGIN_ENDPOINT = 'auth'
window.Kong.Auth.REGISTER_ENDPOINT = 'register'

window.Kong.Auth.BASIC_AUTH = {
  NAME: 'basic-auth',
  FIELDS: ['email', 'password'],
  getHeaders: function (fields) {
    return { Authorization: 'Basic ' + btoa(fields.email + ':' + fields.password) }
  }
}

window.Kong.Auth.KEY_AUTH = {
  NAME: 'key-auth',
  FIELDS: ['email', 'key'],
  getHeaders: function (fields) {
    return { apikey: fields.key }
  }
}

window.Kong.Auth.OIDC = {
  NAME: 'openid-connect',
  FIELDS: ['email'],
  getHeaders: function () {
    return {}
  }
}

// The type object for a portal_auth name (basic-auth when unknown).
window.Kong.Auth.typeFor = function (name) {
  var types = [window.Kong.Auth.BASIC_AUTH, window.Kong.Auth.KEY_AUTH, window.Kong.Auth.OIDC]
  for (var i = 0; i < types.length; i++) {
    if (types[i].NAME === name) return types[i]
  }
  return window.Kong.Auth.BASIC_AUTH
}

window.Kong.Auth.endpoint = function (baseUrl, name) {
  return [baseUrl, name].join('/')
}

// Turns a failed jQuery request into the rejection shape the pages expect.
window.Kong.Auth.failure = function (xhr, ajaxOptions, throwError) {
  var json = xhr.responseJSON
  if (!json && xhr.responseText) {
    try {
      json = JSON.parse(xhr.responseText)
    } catch {
      json = null
    }
  }
  return { message: json ? json.message : null, xhr: xhr, ajaxOptions: ajaxOptions, throwError: throwError }
}

window.Kong.Auth.register = function (options) {
  var type = options.type
  var body = {}
  var meta = {}
  for (var i = 0; i < options.fields.length; i++) {
    var field = options.fields[i]
    if (type.FIELDS.indexOf(field.name) >= 0) {
      body[field.name] = field.value
    } else {
      meta[field.name] = field.value
    }
  }
  body.meta = JSON.stringify(meta)

  return new Promise(function (resolve, reject) {
    $.ajax({
      type: 'POST',
      url: window.Kong.Auth.endpoint(options.baseUrl, window.Kong.Auth.REGISTER_ENDPOINT),
      data: body,
      success: function (data) {
        resolve(data)
      },
      error: function (xhr, ajaxOptions, throwError) {
        reject(window.Kong.Auth.failure(xhr, ajaxOptions, throwError))
      }
    })
  })
}

window.Kong.Auth.login = function (options) {
  var fields = window.Kong.Utils.serializeFieldsArrayToObject(options.fields)
  return new Promise(function (resolve, reject) {
    $.ajax({
      type: 'GET',
      dataType: 'text',
      url: window.Kong.Auth.endpoint(options.baseUrl, window.Kong.Auth.LOGIN_ENDPOINT),
      headers: options.type.getHeaders(fields),
      crossDomain: true,
      xhrFields: { withCredentials: true },
      success: function (data) {
        resolve(data)
      },
      error: function (xhr, ajaxOptions, throwError) {
        reject(window.Kong.Auth.failure(xhr, ajaxOptions, throwError))
      }
    })
  })
}

window.Kong.Auth.logout = function (options) {
  return new Promise(function (resolve, reject) {
    $.ajax({
      type: 'DELETE',
      url: window.Kong.Auth.endpoint(options.baseUrl, window.Kong.Auth.LOGIN_ENDPOINT) + '?session_logout=true',
      crossDomain: true,
      xhrFields: { withCredentials: true },
      success: function (data) {
        resolve(data)
      },
      error: function (xhr, ajaxOptions, throwError) {
        // An empty 200 body makes jQuery report a parse error; the logout still worked.
        if (xhr.status === 200 || xhr.responseText === '') return resolve({})
        reject(window.Kong.Auth.failure(xhr, ajaxOptions, throwError))
      }
    })
  })
}
