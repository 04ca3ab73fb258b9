package sim

import (
	"encoding/json"
	"fmt"
	"strconv"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	upstreamhttp "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"
)

// gatewayConfig is the Envoy configuration of one Gateway, as Envoy
// Gateway's translator (egctl x translate --to xds) builds it.
type gatewayConfig struct {
	// name is the Gateway's namespace/name.
	name      string
	listeners []*listener.Listener
	routes    map[string]*route.RouteConfiguration
	clusters  map[string]*cluster.Cluster
	endpoints map[string]*endpoint.ClusterLoadAssignment
}

// configDump is one Gateway's entry of egctl's output: Envoy's admin
// config dump, each config in protobuf JSON.
type configDump struct {
	Configs []json.RawMessage `json:"configs"`
}

// The config dump sections, with the resources the gateway hop reads.
type (
	listenersDump struct {
		DynamicListeners []struct {
			ActiveState struct {
				Listener json.RawMessage `json:"listener"`
			} `json:"activeState"`
		} `json:"dynamicListeners"`
	}
	routesDump struct {
		DynamicRouteConfigs []struct {
			RouteConfig json.RawMessage `json:"routeConfig"`
		} `json:"dynamicRouteConfigs"`
	}
	clustersDump struct {
		DynamicActiveClusters []struct {
			Cluster json.RawMessage `json:"cluster"`
		} `json:"dynamicActiveClusters"`
	}
	endpointsDump struct {
		DynamicEndpointConfigs []struct {
			EndpointConfig json.RawMessage `json:"endpointConfig"`
		} `json:"dynamicEndpointConfigs"`
	}
)

// protoJSON decodes Envoy's protobuf JSON. Envoy Gateway configures
// extensions whose types this program may not link (they sit in Any
// fields the simulator never reads): those decode as Empty instead of
// failing.
var protoJSON = protojson.UnmarshalOptions{DiscardUnknown: true, Resolver: tolerantResolver{}}

// tolerantResolver resolves message types from the global registry and
// stands Empty in for the unknown ones.
type tolerantResolver struct{}

var emptyType = (&emptypb.Empty{}).ProtoReflect().Type()

// FindMessageByName resolves a message type by its full name.
func (tolerantResolver) FindMessageByName(n protoreflect.FullName) (protoreflect.MessageType, error) {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(n); err == nil {
		return mt, nil
	}
	return emptyType, nil
}

// FindMessageByURL resolves a message type by its Any type URL.
func (tolerantResolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	if mt, err := protoregistry.GlobalTypes.FindMessageByURL(url); err == nil {
		return mt, nil
	}
	return emptyType, nil
}

// FindExtensionByName resolves an extension from the global registry.
func (tolerantResolver) FindExtensionByName(n protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByName(n)
}

// FindExtensionByNumber resolves an extension from the global registry.
func (tolerantResolver) FindExtensionByNumber(m protoreflect.FullName, n protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByNumber(m, n)
}

// parseGatewayConfig decodes one Gateway's configuration dump.
func parseGatewayConfig(name string, raw any) (*gatewayConfig, error) {
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var dump configDump
	if err := json.Unmarshal(data, &dump); err != nil {
		return nil, fmt.Errorf("gateway %s: %w", name, err)
	}
	g := &gatewayConfig{name: name, routes: map[string]*route.RouteConfiguration{},
		clusters: map[string]*cluster.Cluster{}, endpoints: map[string]*endpoint.ClusterLoadAssignment{}}
	for _, c := range dump.Configs {
		if err := g.add(c); err != nil {
			return nil, fmt.Errorf("gateway %s: %w", name, err)
		}
	}
	return g, nil
}

// add decodes one section of the dump by its type.
func (g *gatewayConfig) add(c json.RawMessage) error {
	var t struct {
		Type string `json:"@type"`
	}
	if err := json.Unmarshal(c, &t); err != nil {
		return err
	}
	switch t.Type {
	case "type.googleapis.com/envoy.admin.v3.ListenersConfigDump":
		var d listenersDump
		if err := json.Unmarshal(c, &d); err != nil {
			return err
		}
		for _, l := range d.DynamicListeners {
			msg := &listener.Listener{}
			if err := decode(l.ActiveState.Listener, msg); err != nil {
				return err
			}
			g.listeners = append(g.listeners, msg)
		}
	case "type.googleapis.com/envoy.admin.v3.RoutesConfigDump":
		var d routesDump
		if err := json.Unmarshal(c, &d); err != nil {
			return err
		}
		for _, r := range d.DynamicRouteConfigs {
			msg := &route.RouteConfiguration{}
			if err := decode(r.RouteConfig, msg); err != nil {
				return err
			}
			g.routes[msg.GetName()] = msg
		}
	case "type.googleapis.com/envoy.admin.v3.ClustersConfigDump":
		var d clustersDump
		if err := json.Unmarshal(c, &d); err != nil {
			return err
		}
		for _, cl := range d.DynamicActiveClusters {
			msg := &cluster.Cluster{}
			if err := decode(cl.Cluster, msg); err != nil {
				return err
			}
			g.clusters[msg.GetName()] = msg
		}
	case "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump":
		var d endpointsDump
		if err := json.Unmarshal(c, &d); err != nil {
			return err
		}
		for _, e := range d.DynamicEndpointConfigs {
			msg := &endpoint.ClusterLoadAssignment{}
			if err := decode(e.EndpointConfig, msg); err != nil {
				return err
			}
			g.endpoints[msg.GetClusterName()] = msg
		}
	}
	return nil
}

// decode reads one resource of the dump, dropping its own @type.
func decode(raw json.RawMessage, msg proto.Message) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	delete(fields, "@type")
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if err := protoJSON.Unmarshal(data, msg); err != nil {
		return fmt.Errorf("decoding %T: %w", msg, err)
	}
	return nil
}

// backend returns the Service, address and Service port of a cluster's
// first endpoint, from the metadata EG attaches to it.
func (g *gatewayConfig) backend(clusterName string) (svc Service, address string, port int, ok bool) {
	for _, e := range g.endpoints[clusterName].GetEndpoints() {
		eg := e.GetMetadata().GetFilterMetadata()["envoy-gateway"]
		for _, r := range eg.GetFields()["resources"].GetListValue().GetValues() {
			f := r.GetStructValue().GetFields()
			if f["kind"].GetStringValue() != "Service" || len(e.GetLbEndpoints()) == 0 {
				continue
			}
			sa := e.GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
			port, err := strconv.Atoi(f["sectionName"].GetStringValue())
			if err != nil {
				port = int(sa.GetPortValue())
			}
			return Service{Namespace: f["namespace"].GetStringValue(), Name: f["name"].GetStringValue()}, sa.GetAddress(), port, true
		}
	}
	return Service{}, "", 0, false
}

// clusterHTTP2 tells whether a cluster speaks HTTP/2 upstream.
func clusterHTTP2(c *cluster.Cluster) bool {
	for _, a := range c.GetTypedExtensionProtocolOptions() {
		o := &upstreamhttp.HttpProtocolOptions{}
		if a.UnmarshalTo(o) == nil && o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil {
			return true
		}
	}
	return false
}
