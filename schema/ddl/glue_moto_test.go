package ddl

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestGlueTableInputIsAccepted creates the generated tables through the
// aws CLI against moto: the CLI checks the table input against the Glue API
// model (an unknown or misspelt key fails), and get-table gives back the
// columns. Part of the fuller suite.
func TestGlueTableInputIsAccepted(t *testing.T) {
	endpoint := testenv.Moto(t)
	awsCLI := testenv.Tool(t, "aws")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	aws := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "--output", "json", "glue"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("aws glue %v: %v\n%s", args, err, out)
		}
		return out
	}
	aws("create-database", "--database-input", `{"Name":"sluice"}`)
	for _, s := range shipped(t) {
		files, err := Generate(Glue, s, Options{Location: "s3://bucket/" + s.Name + "/"})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), files[0].Name)
		if err := os.WriteFile(path, files[0].Data, 0o644); err != nil {
			t.Fatal(err)
		}
		aws("create-table", "--database-name", "sluice", "--table-input", "file://"+path)
		var got struct {
			Table struct {
				StorageDescriptor struct {
					Columns []struct{ Name, Type string }
				}
			}
		}
		if err := json.Unmarshal(aws("get-table", "--database-name", "sluice", "--name", s.Name), &got); err != nil {
			t.Fatal(err)
		}
		want := parseGlue(t, files).StorageDescriptor.Columns
		var gotNames, wantNames []string
		for i := range want {
			wantNames = append(wantNames, want[i].Name+" "+want[i].Type)
		}
		for _, c := range got.Table.StorageDescriptor.Columns {
			gotNames = append(gotNames, c.Name+" "+c.Type)
		}
		if !slices.Equal(gotNames, wantNames) {
			t.Errorf("%s: Glue has columns %q, want %q", s.Name, gotNames, wantNames)
		}
	}
}
