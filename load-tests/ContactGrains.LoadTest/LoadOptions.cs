using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace ContactGrains.LoadTest;

/// <summary>The settings of one run, read from the command line by <see cref="LoadCommands"/>.</summary>
internal sealed record LoadOptions
{
    public string Address { get; init; } = LoadCommands.DefaultAddress;
    public int Streams { get; init; } = 4;
    public int Conversations { get; init; } = 1000;
    public int Turns { get; init; } = 5;
    public int MaxSeconds { get; init; } = 120;
    public int? SiloPid { get; init; }
    public int Iterations { get; init; } = 200_000;
    public int Agents { get; init; } = 10;
    public int Silos { get; init; } = 3;
}

/// <summary>The command line of <c>contactgrains-load</c> (System.CommandLine): commands, options, help and errors.</summary>
internal static class LoadCommands
{
    public const string DefaultAddress = "http://127.0.0.1:5000";

    /// <summary>Longest run any command may be given: load is always bounded in time.</summary>
    public const int MaxRunSeconds = 600;

    public static RootCommand Create()
    {
        var address = new Option<string>("--address")
        {
            Description = "The silo's gRPC address; loopback only (127.0.0.1, [::1] or localhost).",
            HelpName = "url",
            DefaultValueFactory = _ => DefaultAddress,
        };
        address.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!IsLoopbackUrl(value))
            {
                result.AddError($"--address must be a loopback URL (127.0.0.1, [::1] or localhost), not '{value}'.");
            }
        });
        var maxSeconds = PositiveNumber("--max-seconds", 120, $"Stops the run after this many seconds, finished or not (at most {MaxRunSeconds}).", "seconds", max: MaxRunSeconds);

        var streams = PositiveNumber("--streams", 4, "Connect streams (one ChannelConnection each); the conversations are shared among them.", "count");
        var conversations = PositiveNumber("--conversations", 1000, "Conversations, all in flight at once.", "count");
        var turns = PositiveNumber("--turns", 5, "Questions each conversation asks, each once the previous one is acknowledged.", "count");
        var siloPid = new Option<int?>("--silo-pid")
        {
            Description = "The silo's process id (same machine): prints its resident memory and CPU time used by the run.",
            HelpName = "pid",
            CustomParser = result => ParsePositive(result, null),
        };
        var channel = new Command("channel", """
            Drives the channel API like adapters do: each stream carries its share of the conversations,
            every conversation asks --turns questions. Checks every ack and that every conversation's
            entries arrive in order with no gap. Loopback addresses only; stops after --max-seconds.
            """)
        {
            address, streams, conversations, turns, maxSeconds, siloPid,
        };
        channel.SetAction((parse, cancellationToken) => ChannelLoad.RunAsync(
            new LoadOptions
            {
                Address = parse.GetRequiredValue(address),
                Streams = parse.GetValue(streams),
                Conversations = parse.GetValue(conversations),
                Turns = parse.GetValue(turns),
                MaxSeconds = parse.GetValue(maxSeconds),
                SiloPid = parse.GetValue(siloPid),
            },
            cancellationToken));

        var botIterations = PositiveNumber("--iterations", 200_000, "Classifications timed per measure (a judged turn: half as many).", "count");
        var bot = new Command("bot", """
            Times the knowledge-base bot's matcher, the signal detector and a whole judged turn (bot,
            detector, ownership policy) on a fixed mix of questions, in-process.
            """)
        {
            botIterations,
        };
        bot.SetAction((parse, _) => BotBenchmark.RunAsync(new LoadOptions { Iterations = parse.GetValue(botIterations) }));

        var judgement = new Command("judgement", """
            Replays the labelled judgement table through the bot, the signal detector and the ownership
            policy: must-human recall, routine containment and false handoffs, per language and reason.
            """);
        judgement.SetAction((_, _) => JudgementReport.RunAsync(new LoadOptions()));

        var growthIterations = PositiveNumber("--iterations", 2000, "Messages sent to the one conversation.", "count");
        var growth = new Command("growth", """
            Grows one conversation to --iterations messages, one at a time, and prints the time per
            message for every 100: flat figures mean storing a message does not get dearer as the
            conversation grows.
            """)
        {
            address, growthIterations, maxSeconds,
        };
        growth.SetAction((parse, cancellationToken) => GrowthBenchmark.RunAsync(
            new LoadOptions
            {
                Address = parse.GetRequiredValue(address),
                Iterations = parse.GetValue(growthIterations),
                MaxSeconds = parse.GetValue(maxSeconds),
            },
            cancellationToken));

        var handoffConversations = PositiveNumber("--conversations", 1000, "Customers who all ask for a human at once.", "count");
        var agents = PositiveNumber("--agents", 10, "Agent desktops (capacity 3 each, skill billing, English).", "count");
        var handoff = new Command("handoff", """
            Every conversation asks for a human at once; --agents desktops (capacity 3) accept every
            offer as it arrives, answer once and resolve. Prints handoffs per second and the speed to
            answer; checks that no agent exceeds its capacity and every conversation is resolved once.
            """)
        {
            address, handoffConversations, agents, maxSeconds,
        };
        handoff.SetAction((parse, cancellationToken) => HandoffLoad.RunAsync(
            new LoadOptions
            {
                Address = parse.GetRequiredValue(address),
                Conversations = parse.GetValue(handoffConversations),
                Agents = parse.GetValue(agents),
                MaxSeconds = parse.GetValue(maxSeconds),
            },
            cancellationToken));

        return new RootCommand("""
            Bounded load generators for ContactGrains: the channel and agent APIs over loopback (through
            ContactGrains.Client), and the bot's matcher in-process. Every run stops by itself.
            """)
        {
            channel, bot, judgement, growth, handoff, CeilingRun.CreateCommand(maxSeconds), FailoverLoad.CreateCommand(maxSeconds),
        };
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. A command line that does not parse prints its errors
    /// and the command's help on standard error and returns 2 (usage error), as before.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Action is ParseErrorAction errorAction)
        {
            // Suggestions help with a misspelt command; for a command's options they only offer "-h".
            errorAction.ShowTypoCorrections = parse.CommandResult.Command is RootCommand;
            await parse.InvokeAsync(new InvocationConfiguration { Output = Console.Error });
            return 2;
        }

        return await parse.InvokeAsync();
    }

    internal static Option<int> PositiveNumber(string name, int defaultValue, string description, string helpName, int max = int.MaxValue) =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => ParsePositive(result, max) ?? defaultValue,
        };

    /// <summary>A positive whole number in plain digits (no sign, no spaces), up to <paramref name="max"/>; otherwise an error naming the option.</summary>
    private static int? ParsePositive(ArgumentResult result, int? max)
    {
        var name = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            result.AddError($"{name} takes a positive whole number, not '{value}'.");
            return null;
        }

        if (number > max)
        {
            result.AddError($"{name} is at most {max}, not {number}.");
            return null;
        }

        return number;
    }

    private static bool IsLoopbackUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip)));
}
