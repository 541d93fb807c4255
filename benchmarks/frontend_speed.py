"""Speed of the text frontend: normalize → G2P → prosody-model rows, on ~1500 words of prose.

    python benchmarks/frontend_speed.py [--repeats 3] [--feature-set phoneme]

Each timed run uses a fresh ``Frontend`` (empty per-instance caches of the neural G2P), so unknown
words are really predicted every time; CMUdict parsing and the first model load happen in an
untimed warm-up on a different text. Words are whitespace-separated tokens of the input prose.
The last line is ``words_per_second X`` (median over the runs).
"""

from __future__ import annotations

import argparse
import statistics
import time

from frontend.features import Frontend
from frontend.prosody_features import FEATURE_SETS, prosody_phone_features

WARMUP = """The warm-up paragraph loads the pronunciation dictionary and the neural model once,
so that the timed runs measure the pipeline and not the disk. Zorblaxian snarkhunters agree."""

# Original prose written for this benchmark: ordinary sentences with numbers, dates, money,
# abbreviations, acronyms, a few rare words and names that CMUdict lacks, and homographs.
PROSE = """
The village of Ashcombe sits at the bottom of a narrow valley, about 12 miles south of the
nearest railway station. In 1887 a local miller named Thomas Pell wrote in his diary that the
river had risen by 3 feet in a single night, and that he had lost 40 sacks of flour to the
water. Nobody in the village today remembers the flood, but the marks on the old mill wall are
still there, painted in white by someone who wanted the next generation to read them.

Dr. Eleanor Whitcombe, who moved to Ashcombe in 2004, spent most of her first winter reading
parish records. She found that the population had peaked at 1,250 in the census of 1851 and
then fallen steadily for a hundred years. "People did not leave because they were unhappy,"
she told me on a wet afternoon in Feb. 2019. "They left because the work moved to the towns,
and the towns paid 2 or 3 times as much." Her study, published by the county historical
society, runs to 340 pages and costs about $25, or £18 if you buy it at the village shop.

The shop itself is a small miracle. It is open from 7 a.m. to 9 p.m., six days a week, and is
run by volunteers who take turns behind the counter. On a busy Saturday it sells 200 loaves of
bread, 60 dozen eggs and more newspapers than anyone would expect in the age of the internet.
Mrs. Okonkwo, who has managed the rota since 2011, keeps a spreadsheet with 48 names on it and a
note beside each one: who can lift heavy boxes, who knows how to use the card machine, and who
must never be asked to work before 10 o'clock.

Every year on the 3rd Sunday of June, the village holds a fair on the green. There is a tug of
war between the two pubs, a dog show with 14 categories, and a cake competition judged by the
vicar, the Rev. James Atherton, who insists that he has no favourites and has eaten 37 cakes in
a single afternoon without complaint. Last year the fair raised £4,500 for the school roof, and
the head teacher, Ms. Priya Raman, said the new roof would be finished before the winter term.

The school has 86 pupils aged between 4 and 11. Its oldest building dates from 1872 and still
has the original bell, which the children ring at 8:45 every morning. The newest building is a
science room paid for by a grant of $120,000 from a national charity. In it, the older children
measure rainfall, keep a record of the birds that visit the feeder, and present their results
to the parish council each spring. Last March they reported 23 species, including a pair of
nuthatches that nobody had seen in the valley for at least 15 years.

Farming is still the main business of the valley. Around 30% of the land is pasture for sheep,
about half grows wheat and barley, and the rest is woodland that has been managed in the same
way since the Middle Ages. The largest farm covers 650 acres and employs 9 people full time. Its
owner, Mr. David Llewellyn, is cautious about the future. "Prices for lamb dropped by 18% in two
years," he said, "and diesel went up by almost 40p a litre. You can live with one of those, not
with both." He is trying new crops, including a variety of hemp, and selling produce directly
to restaurants in the city, 45 km away.

Transport is the problem that everyone mentions. The bus to the market town runs 4 times a day
on weekdays and twice on Saturdays; there is no service on Sundays. The journey takes 52 minutes
and costs £3.80 each way. Teenagers who want to go to college have to leave the house before
7:00, and elderly residents who no longer drive depend on a volunteer car scheme that made 1,900
trips last year. The county council has promised to review the timetable, but the review has
been promised before, in 2015 and again in 2018, and people in Ashcombe have learned to wait.

Broadband arrived late, in the autumn of 2021, and changed more than anyone expected. Before it
came, the fastest connection in the village was about 2 Mbps, and the post office had a queue
of people printing forms they could not download at home. Now most houses have a fibre line, 3
small companies have moved into the old mill, and a software engineer who grew up in the valley
has returned from London to work from a converted barn. She says she can do in Ashcombe exactly
what she did in an office on the 14th floor of a tower, with a better view and a shorter commute.

Not everyone welcomes the change. Some older residents worry that house prices, which rose by
about 25% between 2019 and 2023, will push out the families who have lived here for generations.
A three-bedroom cottage that sold for £210,000 a decade ago was listed last month at £395,000.
The parish council has asked the district to set aside 8 plots for affordable homes, and a
community land trust, formed in Jan. 2022 with 120 members, hopes to build the first 4 houses
within 3 years. Whether that happens will depend on a planning decision expected in the spring.

The church is older than anything else in the valley. Parts of the north wall were built around
1120, and the tower was added in the 15th century by a wool merchant who wanted to be buried
beneath it. Inside, a brass plate lists the names of 19 men from the parish who died in the
First World War, and a smaller one lists 7 from the Second. The building needs about £60,000 of
repairs to its roof and drains, and the congregation, which numbers 25 on an ordinary Sunday,
has been raising money with concerts, quiz nights and a sponsored walk of 26.2 miles around the
edge of the parish. The walk alone brought in £3,150 last September.

Music has always mattered here. The village choir was founded in 1923 and has never missed a
Christmas concert, not even in 1940, when the windows had to be blacked out and the singers
performed by candlelight. Today it has 31 members, the youngest 16 and the oldest 89. Their
conductor, a retired BBC sound engineer called Martin Fairweather, makes live recordings of
every performance and posts them online, where a carol arranged by a former pupil of the school
has been played more than 50,000 times. He likes to say that the church has better acoustics
than most studios in the U.K., and after a concert on a frosty night it is hard to disagree.

The pub on the green, the Plough, has stood there since at least 1760. It closed for 18 months
during the pandemic and very nearly did not reopen. A group of regulars formed a cooperative,
sold shares at £100 each and raised £285,000 in 11 weeks, enough to buy the building and
refurbish the kitchen. It now serves food 5 nights a week, hosts a folk session on the first
Thursday of every month and employs 12 local people, most of them part time. The cooperative
has 412 members, some of whom live as far away as Canada and New Zealand and have never been
inside, but like the idea of owning a small part of a village pub.

Wildlife has returned to the river in the last twenty years. Otters, which had vanished by the
1970s, were spotted again in 2009, and a survey in 2022 counted at least 6 animals along an
8 km stretch. Kingfishers nest in the banks below the mill, and on summer evenings bats hunt
over the water in such numbers that a group from the university comes every July to count
them. Their latest report, which runs to 64 pages, estimates the colony at between 300 and 450
bats, and recommends that the street lights near the bridge be dimmed after 11 p.m.

None of this makes the valley a perfect place, and the people who live there would be the first
to say so. Winters are long and wet, the roads flood at least twice a year, and the nearest
hospital is 40 minutes away on a good day. But when you ask them why they stay, the answers are
remarkably similar: they know their neighbours, their children can walk to school, and on most
days something small and unexpected happens that makes them glad they did not leave.

On a clear evening the valley is very quiet. The last bus has gone, the shop has closed, and the
only sounds are the river, a few sheep and, now and then, the bell of the church clock striking
the hour. Standing on the bridge at 9 p.m., you can see the lights come on in the windows one by
one. It is easy to imagine that nothing here has changed in 200 years. It is also wrong: the
valley has changed many times, and it will change again. What has lasted is the habit of people
looking after one another, writing things down, and marking the height of the water on the wall.
"""


def run_once(frontend: Frontend, text: str, feature_set: str = "phoneme") -> tuple[int, int]:
    """Utterances and phonemes produced for ``text``, with the prosody models' ``feature_set``
    rows (``frontend.prosody_features.FEATURE_SETS``)."""
    utterances = phonemes = 0
    for utterance in frontend.utterances(text):
        features = prosody_phone_features(utterance, feature_set)
        utterances += 1
        phonemes += features.shape[0]
    return utterances, phonemes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--feature-set", default="phoneme+intonation", choices=tuple(FEATURE_SETS),
                        help="the rows computed per utterance (default: what the bundled "
                             "voice's prosody models read)")
    args = parser.parse_args()

    run_once(Frontend(), WARMUP)
    words = len(PROSE.split())
    seconds = []
    for _ in range(args.repeats):
        frontend = Frontend()  # fresh caches: every unknown word is predicted again
        start = time.perf_counter()
        utterances, phonemes = run_once(frontend, PROSE, args.feature_set)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(f"words {words}  utterances {utterances}  phonemes {phonemes}  "
          f"seconds {median:.3f} (median of {args.repeats})")
    print(f"words_per_second {words / median:.0f}")


if __name__ == "__main__":
    main()
