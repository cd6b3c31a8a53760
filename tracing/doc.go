// Package tracing holds the test of what gormcache tells traces: with
// gorm.io/plugin/opentelemetry registered, the span of a query says whether
// the cache served it, and a write's invalidation is a span of its own
// (see trace.go of package gormcache).
//
// It is a module of its own, test-only, so that the OpenTelemetry SDK (its
// in-memory span recorder) and the GORM plugin stay out of the module graph
// of gormcache's users, who get only the OpenTelemetry API. scripts/test.sh
// tests it with the other modules of go.work.
package tracing
