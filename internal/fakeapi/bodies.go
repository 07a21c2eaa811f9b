package fakeapi

import "bytes"

// BenchBodies returns, by name, the bodies both benchmarks of the
// proxy answer with (go run ./bench and proxy's BenchmarkProxy): API 2.0
// results of typical and large sizes, with "code" first as the API
// writes it. The large ones are built on each call; a caller that must
// not hold 10 MB builds them only where it needs them.
func BenchBodies() map[string][]byte {
	return map[string][]byte{
		"success-200B":  []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"count":2,"task_id":"1522134939950455","urls":["http://www.test.com/a.png","http://www.test.com/b.png"],"host":"www.test.com"}}`),
		"success-100KB": successOf(100 << 10),
		"success-10MB":  successOf(10 << 20),
		"error-150B":    []byte(`{"code":4000,"message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"9110","data":{"host":"www.example.com","id":12345,"ttl":3600}}`),
	}
}

// successOf returns a success body of exactly size bytes: a
// DescribeCdnHosts-like list of hosts, padded.
func successOf(size int) []byte {
	const head, tail = `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[`, `]}}`
	const host = `{"id":1234567,"host":"www.example.com","status":4,"origin":["1.2.3.4"],"cache":[[0,"all",1000]]}`
	b := make([]byte, 0, size)
	b = append(b, head...)
	for len(b)+len(host)+1+len(tail) <= size {
		if len(b) > len(head) {
			b = append(b, ',')
		}
		b = append(b, host...)
	}
	b = append(b, bytes.Repeat([]byte(" "), size-len(b)-len(tail))...)
	return append(b, tail...)
}
