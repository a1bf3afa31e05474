"""The newsqa chat over the committed demo index: `python app.py`, and the Hugging Face Space entry point.

GRADIO_SERVER_NAME and GRADIO_SERVER_PORT choose the address; NEWSQA_INDEX another index;
NEWSQA_ANSWERER a generative answerer (e.g. openai:http://localhost:11434/v1) and
NEWSQA_ANSWER_MODEL the model that server should run. Uploads stay in the visitor's session;
NEWSQA_ALLOW_WRITES=1 with NEWSQA_OPERATOR_TOKEN lets uploads that carry the token write the index;
NEWSQA_FETCH_PRIVATE=1 lets pasted addresses be on this machine or its private network.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))  # a Space installs requirements.txt, not this package
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in a package; never reach for a hub

from newsqa.ui import launch  # noqa: E402

if __name__ == "__main__":
    launch(os.environ.get("NEWSQA_INDEX") or ROOT / "index", answerer=os.environ.get("NEWSQA_ANSWERER"),
           answer_model=os.environ.get("NEWSQA_ANSWER_MODEL"))
