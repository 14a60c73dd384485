package api

import (
	"net"
	"net/http"
	"strings"
)

// Version documents, public like upstream Mogan's root controller.

type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
	Type string `json:"type,omitempty"`
}

type version struct {
	ID         string `json:"id"`
	Links      []link `json:"links"`
	Status     string `json:"status"`
	MinVersion string `json:"min_version"`
	Version    string `json:"version"`
}

type mediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

const (
	apiName        = "OpenStack Mogan API"
	apiDescription = "Mogan is an OpenStack project which aims to produce an OpenStack service offering bare metal servers."
	apiMinVersion  = "1.0"
	apiMaxVersion  = "1.0"
)

// baseURL is where links point: the configured public endpoint, or the
// scheme and host this request reached (as OpenStack services do; the
// host warns at start when it listens beyond loopback without
// public_endpoint, since a client then chooses the links' host). A
// request without a Host (HTTP/1.0) gets the address it reached, never
// an empty host.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicEndpoint != "" {
		return strings.TrimRight(s.publicEndpoint, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = addr.String() // host:port, IPv6 in brackets
		} else {
			host = "localhost" // not served by net/http: no address to give
		}
	}
	return scheme + "://" + host
}

func (s *Server) v1(r *http.Request) version {
	return version{
		ID:         "v1",
		Links:      []link{{Href: s.baseURL(r) + "/v1/", Rel: "self"}},
		Status:     "CURRENT",
		MinVersion: apiMinVersion,
		Version:    apiMaxVersion,
	}
}

func (s *Server) rootVersions(w http.ResponseWriter, r *http.Request) {
	v := s.v1(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"name":            apiName,
		"description":     apiDescription,
		"versions":        []version{v},
		"default_version": v,
	})
}

func (s *Server) v1Version(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "v1",
		"links": []link{
			{Href: base + "/v1/", Rel: "self"},
			{Href: "https://docs.openstack.org/mogan/latest/", Rel: "describedby", Type: "text/html"},
		},
		"media_types": []mediaType{{Base: "application/json", Type: "application/vnd.openstack.mogan.v1+json"}},
		"servers": []link{
			{Href: base + "/v1/servers/", Rel: "self"},
			{Href: base + "/servers/", Rel: "bookmark"},
		},
		"manageable_servers": []link{
			{Href: base + "/v1/manageable_servers/", Rel: "self"},
			{Href: base + "/manageable_servers/", Rel: "bookmark"},
		},
		"migrations": []link{
			{Href: base + "/v1/migrations/", Rel: "self"},
			{Href: base + "/migrations/", Rel: "bookmark"},
		},
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
