"""One module per `medlearn` subcommand: HELP, configure(parser), run(args)."""
