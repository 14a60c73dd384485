package ironicdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// classify turns a failed call to service (Ironic or Keystone) at endpoint
// into the SDK's error kinds: from Ironic a 404 is an unknown node, a 403
// for a protected node NodeProtected, a 409 a conflict when someone else
// holds what was asked for (ironicFault) and InvalidState otherwise, as is
// a 400 for a provision state the node cannot move to; anything that means
// "cannot get an answer", and any other refusal of the credentials or from
// Keystone, is Unavailable naming the URL, so the operator sees which
// endpoint is at fault.
func classify(err error, service, endpoint string) error {
	if err == nil {
		return nil
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		msg := faultString(code.Body)
		if msg == "" {
			msg = http.StatusText(code.Actual)
		}
		if service == "ironic" {
			if err := ironicFault(code.Actual, msg); err != nil {
				return err
			}
		}
		switch {
		case code.Actual == http.StatusUnauthorized || code.Actual == http.StatusForbidden:
			return driver.Unavailable("%s refused the driver's credentials (%d): %s", describe(service, endpoint), code.Actual, msg)
		case code.Actual >= 500:
			return driver.Unavailable("%s failed (%d): %s", describe(service, endpoint), code.Actual, msg)
		case service != "ironic":
			// Keystone's 4xx (auth_url without its API, say) is about the
			// driver's options, never a node or the caller's request.
			return driver.Unavailable("%s answered %d: %s", describe(service, endpoint), code.Actual, msg)
		case code.Actual == http.StatusNotFound:
			return driver.NotFound("%s", msg)
		case code.Actual == http.StatusBadRequest:
			return driver.InvalidArgument("%s: %s", describe(service, endpoint), msg)
		}
		return fmt.Errorf("%s answered %d: %s", describe(service, endpoint), code.Actual, msg)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return driver.Unavailable("%s did not answer in time: %s", describe(service, endpoint), osclient.RedactText(err.Error()))
	}
	var drvErr *driver.Error
	if errors.As(err, &drvErr) {
		return err
	}
	// Only a transport failure means unreachable; anything else (a body
	// that does not decode, gophercloud refusing incomplete Keystone
	// options before sending) is quoted as it is.
	var transport *url.Error
	if errors.As(err, &transport) {
		return driver.Unavailable("%s is unreachable: %s", describe(service, endpoint), osclient.RedactText(err.Error()))
	}
	return driver.Unavailable("%s: %s", describe(service, endpoint), osclient.RedactText(err.Error()))
}

// Ironic's answers name no exception, only a status and a message, and
// some of its statuses cover faults that call for different things from
// the operator. These fragments of its messages (ironic/common/exception.py,
// api/controllers/v1/node.py) tell them apart.
const (
	// NodeProtected (403): "Node <uuid> is protected and cannot be
	// undeployed, rebuilt or deleted".
	protectedFault = "is protected and cannot be"
	// InvalidStateRequested (400): "The requested action "<verb>" can not
	// be performed on node "<uuid>" while it is in state "<state>"."
	transitionFault = "can not be performed on node"
)

// conflictFaults are Ironic's 409s that mean someone else holds what was
// asked for (NodeLocked, NodeAssociated, InstanceAssociated, the
// *AlreadyExists and DuplicateName kinds, VifAlreadyAttached); every other
// 409 is an InvalidState of some kind, the node's state refusing the
// request.
var conflictFaults = []string{
	"is locked by host", "is associated with instance", "already associated",
	"already exists", "already attached", "Unable to attach VIF",
}

// ironicFault is the kind of an Ironic answer its status alone misreads,
// with a message saying what to do, or nil.
func ironicFault(status int, msg string) error {
	switch {
	case status == http.StatusForbidden && strings.Contains(msg, protectedFault):
		return driver.NodeProtected("Ironic refused: %s. Someone protected the node on purpose: "+
			"lift its protection in Ironic first (openstack baremetal node unset --protected) if this is what you mean", msg)
	case status == http.StatusConflict && !containsAny(msg, conflictFaults):
		return driver.InvalidState("Ironic refused: %s. The node's state does not allow this: "+
			"wait for its current operation to end, or move it to a state that does", msg)
	case status == http.StatusBadRequest && strings.Contains(msg, transitionFault):
		return driver.InvalidState("Ironic refused: %s. The node cannot make this transition from its state: "+
			"wait for its current operation to end, or move it to a state that can", msg)
	case status == http.StatusConflict:
		return driver.Conflict("%s", msg)
	}
	return nil
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// faultString digs the message out of an OpenStack error body:
// {"error_message": "{\"faultstring\": \"...\"}"} (a JSON string holding
// JSON, as Ironic sends it), {"error_message": {"faultstring": ...}}, or
// Keystone's {"error": {"message": ...}}.
func faultString(body []byte) string {
	var outer struct {
		ErrorMessage json.RawMessage `json:"error_message"`
		Error        json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &outer) != nil {
		return strings.TrimSpace(string(body))
	}
	if len(outer.ErrorMessage) == 0 {
		var keystone struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(outer.Error, &keystone) == nil && keystone.Message != "" {
			return keystone.Message
		}
		return strings.TrimSpace(string(body))
	}
	var inner struct {
		FaultString string `json:"faultstring"`
	}
	var s string
	if json.Unmarshal(outer.ErrorMessage, &s) == nil {
		if json.Unmarshal([]byte(s), &inner) == nil && inner.FaultString != "" {
			return inner.FaultString
		}
		return s
	}
	if json.Unmarshal(outer.ErrorMessage, &inner) == nil && inner.FaultString != "" {
		return inner.FaultString
	}
	return string(outer.ErrorMessage)
}

// isNodeLocked reports Ironic's NodeLocked: a conductor holds the node for
// a moment, and the same request succeeds when retried.
func isNodeLocked(err error) bool {
	var code gophercloud.ErrUnexpectedResponseCode
	return errors.As(err, &code) && code.Actual == http.StatusConflict &&
		strings.Contains(faultString(code.Body), "is locked by host")
}

// faultOf is Ironic's message in a failed response, or the error's text.
func faultOf(err error) string {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		return faultString(code.Body)
	}
	return err.Error()
}
