package conformance

import "fmt"

// sdsSecretType is the Secret type Envoy Gateway reads as a reference to
// an SDS server (a unix socket and a resource name).
const sdsSecretType = "gateway.envoyproxy.io/sds"

// The egctl the harness builds (build-tools.sh) runs Envoy Gateway's
// translator as a controller whose EnvoyGateway config has
// extensionApis.enableSDSSecretRef: it accepts every SDS Secret. A real
// controller accepts them only when its config says so, so the harness
// requires a stream with SDS Secrets to come with Envoy Gateway values
// that set it (sdsConfigFailures).

// readSDSSecretRefEnabled tells whether the Envoy Gateway Helm values file
// at path sets config.envoyGateway.extensionApis.enableSDSSecretRef: true
// (false when the file is absent).
func readSDSSecretRefEnabled(path string) (bool, error) {
	values, err := readValues(path)
	if err != nil {
		return false, err
	}
	v, _ := at(values, "config", "envoyGateway", "extensionApis", "enableSDSSecretRef").(bool)
	return v, nil
}

// sdsConfigFailures reports each SDS Secret of s when s's Envoy Gateway
// values do not enable SDS Secret references.
func sdsConfigFailures(s Stream) []Failure {
	if s.SDSSecretRefEnabled {
		return nil
	}
	var out []Failure
	for _, o := range s.Objects {
		if o.APIVersion() == "v1" && o.Kind() == "Secret" && o["type"] == sdsSecretType {
			out = append(out, Failure{Tool: "harness", Object: o.Ref().String(), Condition: "EnvoyGateway config",
				Message: fmt.Sprintf("a Secret of type %s needs config.envoyGateway.extensionApis.enableSDSSecretRef: true in %s/envoy-gateway-values.yaml; without it Envoy Gateway refuses every reference to it", sdsSecretType, ValuesDir)})
		}
	}
	return out
}
