// Package cputime measures the CPU time of the process, for tests that
// compare the cost of two sizes of work (a ratio, never an absolute time)
// on machines whose cores other processes share. It is for tests only:
// nothing in the program reads it.
package cputime
