package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/report/page"
)

func init() { commands = append(commands, newReportCmd) }

func newReportCmd() *cobra.Command {
	var out, title string
	var noEval bool
	cmd := &cobra.Command{
		Use:   "report DIR...",
		Short: "Write one self-contained HTML page of runs, ensembles, range tests and labs",
		Long: `Write one HTML file that needs nothing else (inline SVG charts, no script or style from
anywhere, a strict Content-Security-Policy, the data embedded once as JSON) from:

  run folders       (metrics.jsonl, summary.json): loss, accuracy and learning rate per
                    epoch on shared axes, runs that differ only by seed as mean ± sd,
                    the run table and the configuration diff (only what differs);
  ensemble folders  (ensemble.json): the member/ensemble table (evaluated on the
                    members' test split unless --no-eval) and the members' curves;
  range tests       (lrfind.csv or the lab's lrfind.json): the curve and the suggestions;
  lab folders       (lab.json): the verdict table, every seed's values, the arms' curves.

A folder that is none of these is searched for them (three levels down). The page works
with JavaScript off (static charts); with it, a smoothing control and legend toggles.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("report needs at least one folder (a run, ensemble, range-test or lab folder)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := page.Load(args, page.LoadOptions{EvaluateEnsembles: !noEval})
			if err != nil {
				return err
			}
			if title != "" {
				rep.Title = title
			}
			if err := rep.Write(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d runs, %d ensembles, %d range tests, %d labs)\n", out,
				len(rep.Runs), len(rep.Ensembles), len(rep.RangeTests), len(rep.Labs))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "report.html", "the HTML file to write")
	cmd.Flags().StringVar(&title, "title", "", "the page's title (default: temper report)")
	cmd.Flags().BoolVar(&noEval, "no-eval", false, "do not evaluate ensembles (show the members' recorded metrics only)")
	return cmd
}
