# A test-only ML2 mechanism driver: it binds every port whose vnic_type is
# "baremetal" on the first segment offered, with vif_type "other", as
# networking-baremetal does for Ironic nodes. Debian does not package
# networking-baremetal; without a driver that binds, such ports end with
# binding:vif_type "binding_failed".
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BaremetalMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        if context.current.get(portbindings.VNIC_TYPE) != portbindings.VNIC_BAREMETAL:
            return
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OTHER, {},
                                status="ACTIVE")
            return
