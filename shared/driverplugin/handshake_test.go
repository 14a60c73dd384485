package driverplugin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
)

// TestProtocolVersionMatchesProtoPackage ties the go-plugin protocol
// version to the proto package: a driver.proto v2 needs a new constant.
func TestProtocolVersionMatchesProtoPackage(t *testing.T) {
	pkg := string(driverv1.File_driver_proto.Package())
	if want := fmt.Sprintf("mogan.driver.v%d", ProtocolVersion); pkg != want {
		t.Errorf("proto package %q but ProtocolVersion %d (want package %q)", pkg, ProtocolVersion, want)
	}
	if Handshake.ProtocolVersion != ProtocolVersion {
		t.Errorf("Handshake.ProtocolVersion = %d; want %d", Handshake.ProtocolVersion, ProtocolVersion)
	}
	if !strings.HasPrefix(Handshake.MagicCookieKey, "MOGAN_") || Handshake.MagicCookieValue == "" {
		t.Errorf("handshake cookie %q=%q", Handshake.MagicCookieKey, Handshake.MagicCookieValue)
	}
}
