// Package courier holds the vocabulary of the courier platform: orders,
// couriers, depots, users, money, the domain error type and the interfaces
// of the stores the domain needs. It imports the standard library only.
package courier

import (
	"errors"
	"fmt"
)

// Error codes. The api package maps each code to one HTTP status, in one place.
const (
	EINVALID      = "invalid"                // the input breaks a rule; Details name the fields
	EBADREQUEST   = "bad_request"            // the request could not be read (malformed JSON, wrong types)
	ENOTFOUND     = "not_found"              // the thing does not exist, or the caller may not know it does
	ECONFLICT     = "conflict"               // the state does not allow it (illegal transition, stale version, duplicate)
	EUNAUTHORIZED = "unauthorized"           // no valid credentials
	EFORBIDDEN    = "forbidden"              // valid credentials, not allowed
	ETOOMANY      = "too_many"               // throttled
	EINTERNAL     = "internal"               // anything else; never shown to clients in detail
	EUNAVAILABLE  = "unavailable"            // a dependency is down
	EIDEMPOTENCY  = "idempotency_key_reused" // the Idempotency-Key was used with another request
	ETOOLARGE     = "too_large"              // the request body is over the limit
)

// Error is the one domain error type. Message is safe to show to a client.
// Details carries machine-readable context, for example the field that failed
// validation or the transitions allowed from a state.
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("courier error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns a domain error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error naming the field that failed.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: field + ": " + fmt.Sprintf(format, args...), Details: map[string]any{"field": field}}
}

// ErrorCode returns the code of a domain error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of a domain error, or "Internal error.".
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorDetails returns the details of a domain error in err's chain, or nil.
func ErrorDetails(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
