using System.Globalization;

namespace ContactGrains.LoadTest.Tests;

public class LoadReportTests
{
    private static LoadReport Example()
    {
        var report = new LoadReport("soak") { StartedAt = new DateTimeOffset(2026, 11, 30, 14, 5, 6, TimeSpan.Zero) };
        report.Set("rate (messages/s)", 1200);
        report.Set("address", "http://127.0.0.1:5000");
        report.Set("silo pid", (int?)null); // not given: left out
        report.Add("throughput", 1234.567, "messages/s");
        report.Add("generator CPU per message", 27.5, "µs");
        report.Latencies["ack"] = new LatencySummary(1000, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 0.5005);
        report.Samples.Add(new SoakSample(1, 10, 10, true, 12000, 1200, 0.5, 2.25, 210.4, 3.5));
        report.Samples.Add(new SoakSample(2, 14.5, 4.5, false, 5400, 1200, 0.6, 2.5, null, null));
        report.Problems.Add("conversation c1: entry 3 after 1");
        report.Passed = false;
        return report;
    }

    [Fact]
    public void The_json_reads_back_as_the_same_report()
    {
        var json = Example().ToJson();

        var read = LoadReport.FromJson(json);

        Assert.Equal(json, read.ToJson());
        Assert.Equal("soak", read.Command);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 14, 5, 6, TimeSpan.Zero), read.StartedAt);
        Assert.Equal(["rate (messages/s)", "address"], read.Settings.Keys);
        Assert.Equal(new LoadReport.Figure("throughput", 1234.567, "messages/s"), read.Figures[0]);
        Assert.Equal(new LatencySummary(1000, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 0.5005), read.Latencies["ack"]);
        Assert.Equal(Example().Samples, read.Samples);
        Assert.Equal(["conversation c1: entry 3 after 1"], read.Problems);
        Assert.False(read.Passed);
    }

    [Fact]
    public void The_markdown_holds_every_table()
    {
        var markdown = Example().ToMarkdown();

        Assert.Equal(
            """
            # contactgrains-load soak

            Started 2026-11-30 14:05:06 UTC. Result: **FAILED**.

            | Setting | Value |
            | --- | --- |
            | rate (messages/s) | 1200 |
            | address | http://127.0.0.1:5000 |

            | Figure | Value |
            | --- | --- |
            | throughput | 1,234.57 messages/s |
            | generator CPU per message | 27.5 µs |

            | Latency | Samples | p50 | p90 | p95 | p99 | p99.9 | max |
            | --- | --- | --- | --- | --- | --- | --- | --- |
            | ack | 1,000 | 0.50 ms | 0.90 ms | 0.95 ms | 0.99 ms | 1.00 ms | 1.00 ms |

            | Interval | Ends at | Acked | Messages/s | p50 | p99 | Silo RSS | Silo CPU |
            | --- | --- | --- | --- | --- | --- | --- | --- |
            | 1 | 10.0 s | 12,000 | 1,200 | 0.50 ms | 2.25 ms | 210 MiB | 3.50 s |
            | 2 (cut short) | 14.5 s | 5,400 | 1,200 | 0.60 ms | 2.50 ms | - | - |

            - problem: conversation c1: entry 3 after 1

            """.ReplaceLineEndings("\n"),
            markdown);
    }

    [Theory]
    [InlineData("de-DE")] // decimal comma, dot for thousands
    [InlineData("fr-FR")] // narrow no-break space for thousands
    [InlineData("th-TH")] // Buddhist calendar: year 2569
    public void Figures_and_file_names_do_not_depend_on_the_culture(string culture)
    {
        var invariantMarkdown = Example().ToMarkdown();
        var invariantJson = Example().ToJson();
        var directory = Directory.CreateTempSubdirectory("contactgrains-report-").FullName;
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);

            Assert.Equal(invariantMarkdown, Example().ToMarkdown());
            Assert.Equal(invariantJson, Example().ToJson());
            var (json, markdown) = Example().Write(directory);
            Assert.Equal(Path.Combine(directory, "soak-20261130-140506.json"), json);
            Assert.Equal(Path.Combine(directory, "soak-20261130-140506.md"), markdown);
            Assert.Equal(invariantJson, File.ReadAllText(json));
            Assert.Equal(invariantMarkdown, File.ReadAllText(markdown));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
            Directory.Delete(directory, recursive: true);
        }
    }
}
