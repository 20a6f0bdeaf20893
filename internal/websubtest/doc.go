// Package websubtest holds WebSub peers for tests, written from the
// specification (W3C Recommendation, 2018) rather than from package
// websub, so that each role of newsdesk is tested against an independent
// implementation of the other: Subscriber, a reader that subscribes at a
// hub and checks what it is delivered, and a hub that pushes a source's
// items. They serve on loopback (httptest) and must never be used outside
// tests: they check nothing about who calls them but what the
// specification asks.
package websubtest
