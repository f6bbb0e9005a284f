package deploy

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/internal/config"
)

// CheckUpdate compares the template a stack runs (previous, as
// `aws cloudformation get-template` returns it) with the config about to
// be deployed, and refuses what Firehose cannot change on an existing
// stream and CloudFormation cannot replace under the same name: dynamic
// partitioning (partition_keys) turned on or off. Streams the previous
// template does not name literally are not compared.
func CheckUpdate(previous []byte, cfg *config.Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(previous, &doc); err != nil {
		return fmt.Errorf("deploy: the previous template: %w", err)
	}
	deployed := map[string]bool{} // stream name -> partitioned
	if len(doc.Content) == 1 {
		resources := lookup(doc.Content[0], "Resources")
		for i := 0; resources != nil && i+1 < len(resources.Content); i += 2 {
			r := resources.Content[i+1]
			if t := lookup(r, "Type"); t == nil || t.Value != "AWS::KinesisFirehose::DeliveryStream" {
				continue
			}
			props := lookup(r, "Properties")
			name := lookup(props, "DeliveryStreamName")
			if name == nil || name.Kind != yaml.ScalarNode || name.Tag != "!!str" {
				continue // a parameter or function: not known here
			}
			deployed[name.Value] = hasKey(props, "DynamicPartitioningConfiguration")
		}
	}
	for _, name := range sortedNames(cfg.Streams) {
		was, ok := deployed[name]
		if !ok || was == cfg.Streams[name].PartitionKeys {
			continue
		}
		state := map[bool]string{true: "with", false: "without"}
		return fmt.Errorf("%s: streams.%s.partition_keys: the deployed stream %s runs %s dynamic partitioning, which Firehose cannot change on an existing stream: deploy the stream under a new name and remove the old one once drained (docs/deploy.md, \"Changing a stream's destination or partitioning\")",
			cfg.Path, name, name, state[was])
	}
	return nil
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// hasKey reports whether key is a mapping key anywhere under n.
func hasKey(n *yaml.Node, key string) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if hasKey(c, key) {
			return true
		}
	}
	return false
}

func sortedNames(m map[string]config.Stream) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
