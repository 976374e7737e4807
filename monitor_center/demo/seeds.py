"""The figures the simulated fleet's telemetry is built from, with where each comes from.

The two seed texts (``/work/shared/seeds/``, see PRODUCT.md) are reports of Vietnam's
National Committee on e-Government in 2020. Figures marked *demo assumption* are not in
them; they are plausible values chosen so that every series has something to show.
"""

from __future__ import annotations

from datetime import date

# --- NGSP, the national data integration and sharing platform -------------------------
# "From January 1, 2019 to July 31, 2020, there were a total of about 4.4 million official
# transactions conducted through ... (NGSP), with an average of more than 7.6 thousand
# transactions per day."  4,400,000 / 578 days = 7,612 a day.
NGSP_SINCE = date(2019, 1, 1)
NGSP_TRANSACTIONS_BY_SEED_DATE = 4_400_000
NGSP_DAILY = 7_612.0
# Demo assumption: leadership tracks transactions a day on NGSP; the seeds' average is
# the target to hold.
NGSP_DAILY_TARGET = 7_600.0

# --- Level-4 online public services -----------------------------------------------------
# "By July 2020, the national average rate of level 4 online public services (ELPS)
# reached about 15.91%."
LEVEL4_SEED_DATE = date(2020, 7, 31)
LEVEL4_NATIONAL = 15.91
# Feb 12, 2020 meeting: the rate "increased from 4.5% to over 10%". Between the two
# reports the national share rose about 0.034 points a day.
LEVEL4_FEBRUARY_DATE = date(2020, 2, 12)
LEVEL4_FEBRUARY = 10.2
# "Ministries, branches and localities must set a target of achieving 30% of level 4
# online public service provision by the end of 2020."
LEVEL4_TARGET = 30.0
# "There were 9 ministries, government agencies and 11 provinces and cities with a level
# 4 online public service rate of over 30%" (of 22 ministries and 63 provinces).
PROVINCES_ABOVE_TARGET = 11 / 63
MINISTRIES_ABOVE_TARGET = 9 / 22
# "... including the Ministry of Health and the Ministry of Information and
# Communications with a level 4 online public service rate of 100%." The Ministry of
# Information and Communications merged into Science and Technology (bkhcn) in 2025.
LEVEL4_FULL = frozenset({"byt", "bkhcn"})
# Nghe An: "1,887 online public services ... 87 level 4 online public services."
LEVEL4_PINNED = {"nghe-an": 87 / 1887 * 100}

# --- E-document exchange ----------------------------------------------------------------
# Feb 12, 2020: "86.5% of e-documents have been exchanged online"; Aug 26, 2020: "The
# rate of electronic document exchange nationwide reached 88.53%."
EDOC_FEBRUARY_DATE = date(2020, 2, 12)
EDOC_FEBRUARY = 86.5
EDOC_SEED_DATE = date(2020, 8, 26)
EDOC_RATE = 88.53
# Resolution No. 17/NQ-CP (named in the seeds) sets 90 % of documents exchanged between
# state agencies electronically by 2020; the figure itself is not in the seed texts.
EDOC_TARGET = 90.0

# --- Administrative procedures settled on time ------------------------------------------
# Feb 12, 2020: "95.8% of procedures have been settled on schedule."
ON_TIME_NATIONAL = 95.8
# Demo assumption: a target a little under the national figure, so that most provinces
# meet it and a few do not.
ON_TIME_TARGET = 95.0

# --- National Public Service Portal -----------------------------------------------------
# "Since its launching on December 9, 2019, as many as 47,377 accounts ... have registered
# on the National Public Service Portal" (reported Feb 12, 2020): 65 days, ~729 a day.
PORTAL_LAUNCH = date(2019, 12, 9)
PORTAL_ACCOUNTS_DATE = date(2020, 2, 12)
PORTAL_ACCOUNTS = 47_377
PORTAL_ACCOUNTS_DAILY = PORTAL_ACCOUNTS / (PORTAL_ACCOUNTS_DATE - PORTAL_LAUNCH).days
# Demo assumption: dossiers submitted through the portal a day.
PORTAL_DOSSIERS_DAILY = 6_000.0

# --- LGSPs (provincial integration platforms) -------------------------------------------
# Demo assumption: a province's LGSP carries 1,500 to 9,000 transactions a day.
LGSP_DAILY_RANGE = (1_500.0, 9_000.0)
