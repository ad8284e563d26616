package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/zoo"
)

func init() { commands = append(commands, newZooCmd) }

func newZooCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zoo list|show NAME|export NAME FILE",
		Short: "The pretrained models shipped with temper",
		Long: `The model zoo: pretrained temper models shipped inside the binary (no download),
each with its recipe, dataset, classes, normalization, measured test accuracy, parameter
count, license and the SHA-256 of its weights (checked on every read). Use an entry with
'temper finetune --from zoo:NAME', 'temper eval zoo:NAME' or export its model file.
Rebuild the zoo from its recipes with 'go run ./tools/zoo rebuild'.`,
	}
	reg := func() (*zoo.Registry, error) { return zoo.Open() }
	get := func(name string) (*zoo.Entry, error) {
		r, err := reg()
		if err != nil {
			return nil, err
		}
		e, err := r.Get(name)
		if errors.Is(err, zoo.ErrUnknown) {
			return nil, usageError{err}
		}
		return e, err
	}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List the zoo's entries", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := reg()
			if err != nil {
				return err
			}
			writeZooList(cmd.OutOrStdout(), r)
			return nil
		},
	}, &cobra.Command{
		Use: "show NAME", Short: "Print an entry's registry record (JSON)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := get(args[0])
			if err != nil {
				return err
			}
			one := zoo.Registry{Version: zoo.Version, Entries: []zoo.Entry{*e}}
			_, err = cmd.OutOrStdout().Write(one.Marshal())
			return err
		},
	}, &cobra.Command{
		Use: "export NAME FILE", Short: "Write an entry's model file (safetensors, checksum verified)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := get(args[0])
			if err != nil {
				return err
			}
			b, err := e.WeightsFile()
			if err != nil {
				return err
			}
			if err := checkpoint.WriteFileAtomic(args[1], func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes, sha256 %s)\n", args[1], len(b), e.SHA256)
			return nil
		},
	})
	return cmd
}

func writeZooList(w io.Writer, r *zoo.Registry) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tARCHITECTURE\tDATASET\tCLASSES\tINPUT\tTEST ACC\tPARAMS\tLICENSE")
	for _, n := range r.Names() {
		e, _ := r.Get(n)
		ds := e.Dataset
		if e.SourceClasses != nil {
			ds += fmt.Sprintf(" %v", e.SourceClasses)
		}
		lic := e.License
		if len(lic) > 14 {
			lic = lic[:12] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\t%.2f%%\t%d\t%s\n", e.Name, e.Architecture, ds, len(e.ClassNames), e.InputShape, 100*e.TestAccuracy, e.Params, lic)
	}
	tw.Flush()
}
