// Package batch runs one job per item of a list, a bounded number at once,
// and stops starting new ones when asked while those already started run
// to their end: the loop under `mogan adopt` and `mogan migrate`, so that
// both treat concurrency and Ctrl-C alike.
package batch
