using System.CommandLine;
using System.Globalization;
using ContactGrains.Testing;

namespace ContactGrains.LoadTest;

/// <summary>What the commands that start their own servers (ceiling, failover) share: the built programs, the report.</summary>
internal static class ServerCommands
{
    public const string SiloProject = "src/ContactGrains.Silo";
    public const string SiloAssembly = "ContactGrains.Silo";
    public const string EchoProject = "load-tests/ContactGrains.EchoServer";
    public const string EchoAssembly = "ContactGrains.EchoServer";

    /// <summary>The built dll of a program <paramref name="command"/> starts, or null after saying on standard error how to build it.</summary>
    public static string? FindBuilt(string project, string assembly, string command)
    {
        try
        {
            return RepositoryBuild.RequireDll(project, assembly, $"The {command} command starts it as a separate process");
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }
    }

    /// <summary>A report of <paramref name="command"/> with the load's settings.</summary>
    public static LoadReport NewReport(string command, LoadOptions options)
    {
        var report = new LoadReport(command);
        report.Settings["streams"] = Invariant(options.Streams);
        report.Settings["conversations"] = Invariant(options.Conversations);
        report.Settings["turns"] = Invariant(options.Turns);
        report.Settings["max-seconds"] = Invariant(options.MaxSeconds);
        return report;
    }

    /// <summary>Prints the problems and the result line, writes the report if asked, and returns the exit code.</summary>
    public static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The options of a closed-loop load (streams, conversations, turns) and --report, added to one command.</summary>
internal sealed class LoadShapeOptions
{
    private readonly Option<int> _maxSeconds;

    public LoadShapeOptions(Command command, Option<int> maxSeconds, int streams, int conversations, string streamsDescription)
    {
        _maxSeconds = maxSeconds;
        Streams = LoadCommands.PositiveNumber("--streams", streams, streamsDescription, "count");
        Conversations = LoadCommands.PositiveNumber("--conversations", conversations, "Conversations, all in flight at once.", "count");
        Turns = LoadCommands.PositiveNumber("--turns", 5, "Questions each conversation asks, each once the previous one is acknowledged.", "count");
        Report = new Option<string?>("--report")
        {
            Description = "Also writes the run's report (JSON and Markdown) into this directory.",
            HelpName = "directory",
        };
        foreach (var option in (Option[])[Streams, Conversations, Turns, maxSeconds, Report])
        {
            command.Options.Add(option);
        }
    }

    public Option<int> Streams { get; }

    public Option<int> Conversations { get; }

    public Option<int> Turns { get; }

    public Option<string?> Report { get; }

    public LoadOptions Read(ParseResult parse) => new()
    {
        Streams = parse.GetValue(Streams),
        Conversations = parse.GetValue(Conversations),
        Turns = parse.GetValue(Turns),
        MaxSeconds = parse.GetValue(_maxSeconds),
    };
}
