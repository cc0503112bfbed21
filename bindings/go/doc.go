// Package pcmoe is the Go binding of libpcmoe, which trains one
// Mixture-of-Experts byte-level language model across several parties.
// Each party keeps its data and backbone. The experts of every layer are
// spread over the parties, and each party serves its experts to the others
// over a transport. The transport is a Hub in one process, a Go send
// function (Party.SetTransport with Party.HandleMessage), or ZeroMQ with
// CURVE (NewNetwork). A party continues a prompt with its model
// (Party.Generate), and writes the whole model to one file
// (Party.ExportModel) once every other owner allowed it (Party.AllowExport).
//
// The package converts types and calls the C API of pcmoe.h, whose comments
// remain the reference for every function. An *Error names the C function
// that failed.
//
// # Errors
//
// A failed call returns an *Error with the pcmoe_status as a Status and the
// library's message, read with pcmoe_last_error on the thread of the call.
// Use errors.As to reach it. A panic in a Go callback is recovered before it
// reaches C and comes back as a *CallbackPanicError, which wraps the *Error
// of the interrupted call, if any.
//
// # Handles
//
// Party, Hub and Network own C handles: release each with Close, which is
// safe to call more than once. A finalizer closes a handle that was dropped
// without Close, but at an unknown time, so do not rely on it. The methods
// follow the thread rules of the C header. Most Party methods run one at a
// time per party. HandleMessage, Metrics, Cancel and AllowExport may run on
// any goroutine at any time. No method may run during or after Close.
package pcmoe
