// Package api is mogan-api's HTTP admin API (gorilla/mux): the version
// documents, manageable_servers and servers routes, and the middleware
// every request goes through (request id, auth, body limit, errors).
// Bodies match upstream Mogan's samples field for field.
package api
