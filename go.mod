module github.com/cdnproxy/cdnproxy

go 1.26.8

require (
	github.com/caarlos0/env/v11 v11.4.2
	github.com/tidwall/gjson v1.20.2
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.3.0 // indirect
)
