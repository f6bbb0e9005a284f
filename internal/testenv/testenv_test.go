package testenv

import (
	"net/http"
	"testing"
)

func TestMotoStarts(t *testing.T) {
	endpoint := Moto(t)
	resp, err := http.Get(endpoint + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto answered %d", resp.StatusCode)
	}
}

func TestRedisAnswers(t *testing.T) {
	_ = RedisAddr(t)
}
