namespace ContactGrains.Cli;

/// <summary>Command-line options: <c>--name value</c> pairs, each with a default.</summary>
internal sealed record CliOptions(string Address, string Channel, string Thread, string Customer, string Name, string Language)
{
    /// <summary>What <c>contactgrains</c> alone or <c>contactgrains --help</c> prints.</summary>
    public const string Overview = """
        Usage: contactgrains <command> [options]

        Commands:
          chat     chat with ContactGrains as a customer, over the channel API (an adapter's connection)
          agent    work as an agent, over the agent API: take offers, answer customers, resolve

        contactgrains <command> --help lists a command's options.
        """;

    public const string Usage = """
        Usage: contactgrains chat [options]
          Chat with ContactGrains as a customer, over the channel API (an adapter's connection).

          --address URL     silo gRPC address            (default http://127.0.0.1:5000)
          --channel NAME    channel to speak as           (default webchat)
          --thread ID       external thread id            (default a new one per run)
          --customer ID     external customer id          (default terminal-<user>)
          --name NAME       customer display name         (default your user name)
          --language CODE   customer language: en, fr, …  (default en)

        In the chat: type a message and press Enter. Commands: /info (owner and ledger),
        /transcript, /close, /quit.
        """;

    /// <summary>Parses the arguments after "chat"; returns null with an error message when they are wrong.</summary>
    public static (CliOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var user = Environment.UserName;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--address"] = "http://127.0.0.1:5000",
            ["--channel"] = "webchat",
            ["--thread"] = $"terminal-{Guid.NewGuid():N}",
            ["--customer"] = $"terminal-{user}",
            ["--name"] = user,
            ["--language"] = "en",
        };

        if (OptionPairs.Apply(args, values) is { } error)
        {
            return (null, error);
        }

        return (new CliOptions(values["--address"], values["--channel"], values["--thread"], values["--customer"], values["--name"], values["--language"]), null);
    }
}
