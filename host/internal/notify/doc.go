// Package notify publishes Mogan's versioned notifications
// (server.manage.start, .end, .error, …) the way oslo.messaging's
// notification drivers do, so existing OpenStack consumers read them
// unchanged: "noop" (off), "log" (one log line per notification) or
// "messagingv2" (RabbitMQ, oslo's 2.0 envelope). Notify never blocks or
// fails its caller: a broken or slow broker costs dropped notifications,
// counted and logged, never a slower adoption.
package notify
