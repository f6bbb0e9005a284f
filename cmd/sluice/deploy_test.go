package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestDeployTemplate(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"deploy", "template", "-config", "../../sluice.yaml"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want, err := os.ReadFile("../../cloudformation/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("sluice deploy template of the shipped config differs from cloudformation/pipeline.yaml")
	}
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"deploy"}, exitUsage, "Usage: sluice deploy template"},
		{[]string{"deploy", "stack"}, exitUsage, "Usage: sluice deploy template"},
		{[]string{"deploy", "template", "-config", "no/such.yaml"}, exitUsage, "no/such.yaml"},
		{[]string{"deploy", "template", "-config", "../../sluice.yaml", "extra"}, exitUsage, "the only deploy subcommand is template"},
		{[]string{"deploy", "template", "-h"}, exitOK, "Usage: sluice deploy template"},
		{[]string{"deploy", "template", "-config", "../../sluice.yaml", "-previous", "no/such.yaml"}, exitUsage, "no/such.yaml"},
		{[]string{"deploy", "template", "-config", "../../sluice.yaml", "-previous", "../../cloudformation/pipeline.yaml"}, exitOK, ""},
	} {
		out.Reset()
		errb.Reset()
		if code := realMain(tt.args, &out, &errb); code != tt.code || !strings.Contains(errb.String()+out.String(), tt.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.err)
		}
	}
}
