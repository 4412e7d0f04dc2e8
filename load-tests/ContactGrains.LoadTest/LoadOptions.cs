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

    /// <summary>Open loop: messages per second on a fixed schedule (null: closed loop).</summary>
    public int? Rate { get; init; }

    public int DurationSeconds { get; init; } = 60;

    public int SampleSeconds { get; init; } = 10;

    /// <summary>Where to write the run's report (JSON and Markdown), if anywhere.</summary>
    public string? ReportDirectory { get; init; }

    /// <summary>
    /// Open loop for <c>hybrid</c>: conversations started per second on a fixed schedule (null: closed
    /// loop, <see cref="Conversations"/> in flight).
    /// </summary>
    public int? ConversationsPerSecond { get; init; }

    /// <summary>Conversations a run starts in all (<c>hybrid</c>; <see cref="Conversations"/> is how many are in flight at once in its closed loop).</summary>
    public int Total { get; init; } = 1000;

    /// <summary>Share of conversations (0 to 1) that need a human.</summary>
    public double HumanShare { get; init; } = 0.2;

    /// <summary>A simulated agent's time between an offer's arrival and its accept, in ms (with jitter).</summary>
    public int ThinkMs { get; init; } = 1000;

    /// <summary>Conversations each simulated agent takes at once (its profile's default capacity).</summary>
    public int Capacity { get; init; } = 3;

    /// <summary>Conversation counts at which <c>idle</c> measures the silo's memory.</summary>
    public IReadOnlyList<int> Checkpoints { get; init; } = [10_000, 100_000, 1_000_000];

    /// <summary>Pause before each memory reading, so that work in flight ends and the silo settles.</summary>
    public int SettleSeconds { get; init; } = 5;

    public int Silos { get; init; } = 3;

    /// <summary>Runs of the same size before the measured one (<c>ceiling</c>).</summary>
    public int WarmUpRuns { get; init; } = 5;
}

/// <summary>The command line of <c>contactgrains-load</c> (System.CommandLine): commands, options, help and errors.</summary>
internal static class LoadCommands
{
    public const string DefaultAddress = "http://127.0.0.1:5000";

    /// <summary>
    /// Longest run any command may be given: load is always bounded in time. 14 minutes, under a
    /// conversation's 15-minute collection age, so an <c>idle</c> run ends before Orleans lets its
    /// first conversations go (1,000,000 on PostgreSQL take about 10 minutes on a 2-core machine).
    /// </summary>
    public const int MaxRunSeconds = 840;

    /// <summary>Highest open-loop rate: far above what one machine's silo takes, low enough to stay a test.</summary>
    public const int MaxRate = 100_000;

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
        var report = new Option<string?>("--report")
        {
            Description = "Writes the run's report there as JSON and Markdown (settings, figures, latencies, problems) and prints the paths.",
            HelpName = "directory",
        };

        var rate = new Option<int?>("--rate")
        {
            Description = $"Open loop: sends this many messages per second on a fixed schedule, acked or not (at most {MaxRate}); each conversation's turns stay in order, and latency counts from the intended send time.",
            HelpName = "messages/s",
            CustomParser = result => ParsePositive(result, MaxRate),
        };
        var channel = new Command("channel", """
            Drives the channel API like adapters do: each stream carries its share of the conversations,
            every conversation asks --turns questions. Closed loop by default (all conversations in
            flight at once, each question once the previous is acknowledged); with --rate, open loop
            (conversations take turns round-robin on a fixed schedule). Checks every ack and that every
            conversation's entries arrive in order with no gap. Loopback addresses only; stops after
            --max-seconds.
            """)
        {
            address, streams, conversations, turns, maxSeconds, siloPid, rate, report,
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
                Rate = parse.GetValue(rate),
                ReportDirectory = parse.GetValue(report),
            },
            cancellationToken));

        var soakRate = PositiveNumber("--rate", 100, $"Messages per second, held for the whole run on a fixed schedule, acked or not (at most {MaxRate}).", "messages/s", max: MaxRate);
        var duration = PositiveNumber("--duration", 60, $"Seconds the rate is held (at most {MaxRunSeconds}); then the acks still due get {SoakLoad.DrainSeconds} s more.", "seconds", max: MaxRunSeconds);
        var sampleSeconds = PositiveNumber("--sample-seconds", 10, "Seconds per interval sampled (throughput, p50, p99, silo memory and CPU).", "seconds", max: MaxRunSeconds);
        var openConversations = PositiveNumber("--conversations", 100, "Conversations open at once; each asks --turns questions and a new one takes its place, so new conversations keep arriving.", "count");
        var soak = new Command("soak", """
            Holds --rate messages per second for --duration seconds, open loop, with new conversations
            arriving all the time; samples every --sample-seconds and reports the drift of p99 latency
            and silo memory from the first full interval to the last. Checks every ack and every
            conversation's entries like channel. Loopback addresses only.
            """)
        {
            address, streams, openConversations, turns, soakRate, duration, sampleSeconds, siloPid, report,
        };
        soak.SetAction((parse, cancellationToken) => SoakLoad.RunAsync(
            new LoadOptions
            {
                Address = parse.GetRequiredValue(address),
                Streams = parse.GetValue(streams),
                Conversations = parse.GetValue(openConversations),
                Turns = parse.GetValue(turns),
                Rate = parse.GetValue(soakRate),
                DurationSeconds = parse.GetValue(duration),
                SampleSeconds = parse.GetValue(sampleSeconds),
                SiloPid = parse.GetValue(siloPid),
                ReportDirectory = parse.GetValue(report),
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

        var hybridStreams = PositiveNumber("--streams", 4, "Adapter streams (one ChannelConnection each) the customers share.", "count");
        var inFlight = PositiveNumber("--conversations", 100, "Conversations in flight at once (closed loop: each customer starts another when theirs ends). Not with --rate.", "count");
        var conversationRate = new Option<int?>("--rate")
        {
            Description = $"Open loop: starts this many conversations per second on a fixed schedule, whatever became of the earlier ones (at most {MaxRate}); the first message's ack latency counts from its intended start. Not with --conversations.",
            HelpName = "conversations/s",
            CustomParser = result => ParsePositive(result, MaxRate),
        };
        var hybridTotal = PositiveNumber("--total", 1000, "Conversations started in all.", "count");
        var humanShare = new Option<double>("--human-share")
        {
            Description = "Share of conversations (0 to 1) saying something the bot must hand over; the rest ask routine questions.",
            HelpName = "share",
            DefaultValueFactory = _ => 0.2,
            CustomParser = result =>
            {
                var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var share) || share > 1)
                {
                    result.AddError($"--human-share takes a number from 0 to 1, not '{value}'.");
                    return 0;
                }

                return share;
            },
        };
        var thinkMs = new Option<int>("--think-ms")
        {
            Description = "A simulated agent's think time before accepting an offer, in ms (each draw uniform within ±50%).",
            HelpName = "ms",
            DefaultValueFactory = _ => 1000,
            CustomParser = result => ParseNonNegative(result) ?? 0,
        };
        var hybridAgents = PositiveNumber("--agents", 10, "Simulated agent desktops (every skill and language of the knowledge base).", "count");
        var capacity = PositiveNumber("--capacity", 3, "Conversations each agent takes at once (its profile's default capacity).", "count", max: 100);
        var hybrid = new Command("hybrid", """
            A mixed workload: --human-share of the conversations say something the bot must hand over
            (asking for a person, fraud, bereavement, a complaint, anger; English and French), the rest
            ask routine questions the bot answers. --agents desktops accept offers after --think-ms,
            reply and resolve. Closed loop with --conversations in flight, or open loop with --rate
            conversations started per second; --total in all. Reports handoffs/s,
            bot-answered messages/s, decision → offer and speed to answer; checks every handoff was
            offered, accepted once, answered and resolved, no agent exceeded its capacity and no routine
            conversation was handed over.
            """)
        {
            address, hybridStreams, inFlight, conversationRate, hybridTotal, humanShare, hybridAgents, capacity, thinkMs, maxSeconds, report,
        };
        hybrid.Validators.Add(result =>
        {
            if (result.GetResult(conversationRate) is { Implicit: false } && result.GetResult(inFlight) is { Implicit: false })
            {
                result.AddError("--conversations (closed loop: conversations in flight) and --rate (open loop: conversations started per second) cannot be used together.");
            }
        });
        hybrid.SetAction((parse, cancellationToken) => HybridLoad.RunAsync(
            new LoadOptions
            {
                Address = parse.GetRequiredValue(address),
                Streams = parse.GetValue(hybridStreams),
                Conversations = parse.GetValue(inFlight),
                ConversationsPerSecond = parse.GetValue(conversationRate),
                Total = parse.GetValue(hybridTotal),
                HumanShare = parse.GetValue(humanShare),
                Agents = parse.GetValue(hybridAgents),
                Capacity = parse.GetValue(capacity),
                ThinkMs = parse.GetValue(thinkMs),
                MaxSeconds = parse.GetValue(maxSeconds),
                ReportDirectory = parse.GetValue(report),
            },
            cancellationToken));

        var idleConversations = PositiveNumber("--conversations", 1_000_000, "Conversations to open in all (the last checkpoint).", "count");
        var checkpoints = new Option<int[]>("--checkpoints")
        {
            Description = "Conversation counts at which to settle and read the silo's memory, comma-separated (those above --conversations are skipped).",
            HelpName = "n,n,…",
            DefaultValueFactory = _ => [10_000, 100_000, 1_000_000],
            CustomParser = result =>
            {
                var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                var parts = value.Split(',', StringSplitOptions.TrimEntries);
                var numbers = new List<int>();
                foreach (var part in parts)
                {
                    if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
                    {
                        result.AddError($"--checkpoints takes positive whole numbers separated by commas, not '{value}'.");
                        return [];
                    }

                    numbers.Add(number);
                }

                return [.. numbers];
            },
        };
        var settle = new Option<int>("--settle-seconds")
        {
            Description = "Pause at each checkpoint before reading memory, so work in flight ends and the silo settles.",
            HelpName = "seconds",
            DefaultValueFactory = _ => 5,
            CustomParser = result => ParseNonNegative(result) ?? 0,
        };
        var idle = new Command("idle", """
            Opens conversations that each say one routine question (the bot answers it) and leaves them
            open, over a few streams. At each checkpoint it pauses --settle-seconds and, with --silo-pid,
            reads the silo's resident memory: memory per open conversation, overall and since the previous
            checkpoint. Stops at --conversations or --max-seconds.
            """)
        {
            address, streams, idleConversations, checkpoints, settle, siloPid, maxSeconds, report,
        };
        idle.SetAction((parse, cancellationToken) => IdleLoad.RunAsync(
            new LoadOptions
            {
                Address = parse.GetRequiredValue(address),
                Streams = parse.GetValue(streams),
                Conversations = parse.GetValue(idleConversations),
                Checkpoints = parse.GetValue(checkpoints) ?? [],
                SettleSeconds = parse.GetValue(settle),
                SiloPid = parse.GetValue(siloPid),
                MaxSeconds = parse.GetValue(maxSeconds),
                ReportDirectory = parse.GetValue(report),
            },
            cancellationToken));

        return new RootCommand("""
            Bounded load generators for ContactGrains: the channel and agent APIs over loopback (through
            ContactGrains.Client), and the bot's matcher in-process. Every run stops by itself.
            """)
        {
            channel, soak, hybrid, idle, CeilingRun.CreateCommand(maxSeconds), FailoverLoad.CreateCommand(maxSeconds), bot, judgement, growth, handoff,
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

    /// <summary>Zero or a positive whole number in plain digits; otherwise an error naming the option.</summary>
    private static int? ParseNonNegative(ArgumentResult result)
    {
        var name = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            result.AddError($"{name} takes zero or a positive whole number, not '{value}'.");
            return null;
        }

        return number;
    }

    private static bool IsLoopbackUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip)));
}
