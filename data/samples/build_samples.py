"""Write the shipped sample files (run: python data/samples/build_samples.py).

Every row here was written by the medlearn team; none is copied from the public datasets. Each
sample uses its source's published columns, file format and known quirks (duplicates, empty
answers, doubled '? ?', trailing '-->', None values, markup debris), so the loaders and the
cleaning are exercised on the same shapes the Hub serves. data/README.md lists each quirk.
"""
import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent

WIKIDOC_INSTRUCTION = "Answer this medical question truthfully and briefly."
WIKIDOC = [
    ("What is the first-line treatment for uncomplicated hypertension in adults?",
     "Thiazide diuretics, ACE inhibitors, angiotensin receptor blockers or calcium channel blockers are all reasonable first choices. The choice depends on age and coexisting conditions such as diabetes or kidney disease."),
    ("What are the classic symptoms of diabetic ketoacidosis?",
     "Patients typically have thirst, frequent urination, nausea, vomiting and abdominal pain. Deep, rapid breathing and a fruity smell on the breath are characteristic."),
    ("How is iron deficiency anemia diagnosed?",
     "A low hemoglobin with small, pale red cells suggests it, and a low serum ferritin confirms depleted iron stores. The cause, such as blood loss, should always be looked for."),
    ("What most often causes community-acquired pneumonia?",
     "Streptococcus pneumoniae is the most common bacterial cause. Respiratory viruses, Haemophilus influenzae and Mycoplasma are also frequent."),
    ("What is the mechanism of action of metformin?",
     "Metformin lowers blood glucose mainly by reducing glucose production in the liver. It also improves insulin sensitivity and rarely causes hypoglycemia on its own."),
    ("What are the risk factors for deep vein thrombosis?",
     "Immobility, recent surgery, cancer, pregnancy, estrogen therapy and a previous clot all raise the risk. Inherited clotting disorders also contribute."),
    ("What is the Glasgow Coma Scale used for?",
     "It scores eye opening, verbal response and motor response to describe a patient's level of consciousness. Scores range from 3, deep coma, to 15, fully alert."),
    ("Which electrolyte abnormality causes peaked T waves on the ECG?",
     "A high potassium level, hyperkalemia, classically causes tall, peaked T waves. Severe cases can progress to wide QRS complexes and dangerous arrhythmias."),
    ("What is the typical presentation of acute appendicitis?",
     "Pain often starts around the navel and moves to the right lower abdomen over hours. Nausea, loss of appetite and a low fever are common."),
    ("How is hypothyroidism treated?",
     "It is treated with daily levothyroxine, a synthetic thyroid hormone. The dose is adjusted to the TSH level, checked every few weeks at first."),
    ("What are common side effects of ACE inhibitors?",
     "A dry cough is the most common side effect. Others include raised potassium, dizziness from low blood pressure and, rarely, swelling of the face and throat."),
    ("What is the difference between type 1 and type 2 diabetes?",
     "Type 1 diabetes comes from autoimmune destruction of the insulin-making cells, so insulin is always needed. Type 2 diabetes involves insulin resistance and is often managed first with lifestyle changes and tablets."),
    ("What is the first step in managing anaphylaxis?",
     "Give intramuscular adrenaline into the outer thigh without delay. Then call for help, lay the patient flat and support breathing and circulation."),
    ("What organism causes tuberculosis?",
     "Tuberculosis is caused by Mycobacterium tuberculosis. It spreads through the air and most often affects the lungs."),
    ("What are the signs of a stroke?",
     "Sudden facial drooping, arm weakness and slurred speech are the classic signs. Sudden loss of vision, confusion or a severe headache can also occur."),
    ("What is atrial fibrillation?",
     "Atrial fibrillation is an irregular, often fast heart rhythm caused by disorganized electrical activity in the atria. It raises the risk of stroke because clots can form in the heart."),
    ("How is gout diagnosed?",
     "The diagnosis is confirmed by finding needle-shaped uric acid crystals in fluid drawn from the affected joint. A high blood uric acid supports it but does not prove it."),
    ("What is the role of vitamin K in blood clotting?",
     "The liver needs vitamin K to make clotting factors II, VII, IX and X. Warfarin works by blocking the recycling of vitamin K."),
    ("What are the most common causes of cirrhosis?",
     "Long-term heavy drinking, chronic hepatitis B or C and fatty liver disease are the most common causes."),
    ("What does a raised troponin indicate?",
     "Troponin is released when heart muscle cells are damaged. A rising troponin in a patient with chest pain suggests a heart attack."),
    ("What are the symptoms of migraine?",
     "Migraine causes a throbbing, often one-sided headache lasting hours to days. Nausea and sensitivity to light and sound are common, and some people have a visual aura first."),
    ("How is asthma controlled in the long term?",
     "Inhaled corticosteroids are the mainstay of long-term control. A short-acting bronchodilator is used for quick relief."),
    ("What is a normal resting heart rate for adults?",
     "Roughly 60 to 100 beats per minute. Trained athletes may have lower rates without any disease."),
    ("What is sepsis?",
     "Sepsis is life-threatening organ dysfunction caused by the body's disordered response to infection. Early antibiotics and fluids improve survival."),
    ("What is the treatment of choice for streptococcal sore throat?",
     "Penicillin or amoxicillin is the treatment of choice. People allergic to penicillin can be given a macrolide instead."),
    ("What causes peptic ulcers?",
     "Most peptic ulcers are caused by Helicobacter pylori infection or by anti-inflammatory painkillers. Both damage the protective lining of the stomach and duodenum."),
    ("What is osteoporosis?",
     "Osteoporosis is a loss of bone mass and strength that makes fractures more likely. It is most common in women after menopause."),
    ("What is the antidote for paracetamol overdose?",
     "N-acetylcysteine is the antidote. It works best when started within eight hours of the overdose."),
    ("What are the features of nephrotic syndrome?",
     "Heavy protein loss in the urine, low blood albumin, swelling and high cholesterol."),
    ("What is the most common type of skin cancer?",
     "Basal cell carcinoma is the most common. It grows slowly and rarely spreads to other parts of the body."),
    ("How is hepatitis B transmitted?",
     "Through blood, sexual contact and from mother to baby at birth. A safe and effective vaccine prevents infection."),
    ("What does the thyroid gland do?",
     "The thyroid makes hormones that set the body's metabolic rate. They affect heart rate, body temperature and energy use."),
    ("What is the main symptom of gastroesophageal reflux disease?",
     "Heartburn, a burning feeling behind the breastbone after meals, is the main symptom. Some people also bring up acid into the mouth."),
    ("What is a normal fasting blood glucose?",
     "Below 100 mg/dL (5.6 mmol/L) is normal. A level of 126 mg/dL (7.0 mmol/L) or higher on two occasions indicates diabetes."),
    ("What is meningitis?",
     "Meningitis is inflammation of the membranes that cover the brain and spinal cord. Bacterial meningitis is an emergency that needs antibiotics at once."),
]
WIKIDOC_QUIRKS = [
    WIKIDOC[0],                                                      # exact duplicate
    ("what is the  Glasgow coma scale used for?", WIKIDOC[6][1]),   # duplicate up to case/space
    ("What is the prognosis of pancreatic cancer?", ""),            # empty answer
    ("What is anemia?<br>", "Anemia is a lower than normal amount of hemoglobin in the blood.<br/>It causes tiredness, pallor and breathlessness."),
    ("What is bronchiolitis?", None),                               # null answer
    ("   How is scabies treated?\t", "Scabies is treated with a cream such as permethrin applied to the whole body.   Close contacts are treated at the same time.  "),
    ("Which kidney stones pass on their own?", "Most stones <5 mm pass without treatment within a few weeks; stones >10 mm usually need a procedure."),  # comparison, not a tag
    ("When is low blood pressure an emergency?", "A BP <90/60 with confusion, cold skin or a pulse >120 suggests shock and needs urgent care."),  # comparison, not a tag
]

WIKIDOC_PATIENT = [
    ("What are the symptoms of chickenpox?", "Chickenpox causes an itchy rash of small blisters, fever and tiredness. The blisters crust over within about a week."),
    ("When should I see a doctor about a cough?", "See a doctor if a cough lasts more than three weeks, brings up blood, or comes with shortness of breath, chest pain or weight loss."),
    ("What can I do at home for a sprained ankle?", "Rest it, use ice for 15 to 20 minutes at a time, wrap it and keep it raised. Get it checked if you cannot put weight on it."),
    ("What is high cholesterol?", "It means there is too much cholesterol in your blood, which can build up in the arteries and raise the risk of heart attack and stroke."),
    ("How can I prevent kidney stones?", "Drinking plenty of water is the most important step. Eating less salt also helps."),
    ("What causes heartburn?", "Heartburn happens when stomach acid flows back up into the food pipe. Large meals, lying down after eating, alcohol and smoking make it worse."),
    ("Who should get a flu vaccine?", "Almost everyone older than six months, every year. It matters most for older adults, pregnant women and people with long-term illnesses."),
    ("What are the warning signs of a heart attack?", "Chest pressure or pain, pain spreading to the arm, jaw or back, shortness of breath, sweating and nausea. Call emergency services right away."),
    ("What is eczema?", "Eczema makes the skin dry, red and itchy. It often starts in childhood and tends to come and go."),
    ("How does pink eye spread?", "Infectious pink eye spreads by touching your eyes after touching an infected person or object. Washing hands and not sharing towels helps."),
    ("What should I do if my child has a fever?", "Give plenty of fluids and a fever medicine dosed for your child's weight. Call a doctor if the child is under three months old, very sleepy, or the fever lasts more than three days."),
    ("What is shingles?", "Shingles is a painful rash that appears when the chickenpox virus becomes active again. A vaccine lowers the chance of getting it."),
    ("How much sleep do adults need?", "Most adults need seven to nine hours of sleep a night."),
    ("What is a urinary tract infection?", "An infection in any part of the urinary system, most often the bladder. Burning when you pass urine and needing to go often are common signs."),
    ("Can stress cause headaches?", "Yes. Stress often triggers tension headaches, which feel like a tight band around the head."),
    ("What is anemia?", "Anemia means you have fewer healthy red blood cells than normal. It can make you feel tired and weak."),
    ("How can I lower my blood pressure?", "Eat less salt, stay active, keep a healthy weight, limit alcohol and do not smoke. Some people also need medicine."),
    ("What is hay fever?", "Hay fever is an allergy to pollen or dust that causes sneezing, a runny nose and itchy eyes."),
    ("When is back pain serious?", "Get urgent help if back pain comes with leg weakness, numbness around the groin, or loss of bladder or bowel control."),
    ("What is a concussion?", "A mild brain injury caused by a blow to the head. Headache, confusion and dizziness are common, and rest helps recovery."),
]
WIKIDOC_PATIENT_QUIRKS = [
    ("how much sleep do adults NEED??", WIKIDOC_PATIENT[12][1]),    # duplicate up to case/punctuation
    ("", "Drink water often during hot weather."),                  # empty question
    WIKIDOC_PATIENT[4],                                             # exact duplicate
    ("What is asthma?", "<p>Asthma is a long-term condition in which the airways narrow and swell.</p><p>It causes wheezing&nbsp;and shortness of breath.</p>"),
]

MEDQUAD = [
    ("information", "What is (are) Psoriasis ?", "Psoriasis is a long-lasting skin disease in which skin cells build up too quickly and form thick, scaly patches. It is not contagious and often runs in families."),
    ("symptoms", "What are the symptoms of Psoriasis ?", "Red, raised patches covered with silvery scales are typical, most often on the elbows, knees and scalp. The patches may itch, crack or bleed."),
    ("treatment", "What are the treatments for Psoriasis ?", "Creams with corticosteroids or vitamin D treat mild disease. Light therapy and medicines that act on the immune system help more severe cases."),
    ("information", "What is (are) Glaucoma ?", "Glaucoma is a group of eye diseases that damage the optic nerve, often because the pressure inside the eye is too high. Without treatment it can slowly lead to blindness."),
    ("susceptibility", "Who is at risk for Glaucoma? ?", "People over 60, people with a family history of glaucoma and people of African descent have a higher risk."),
    ("exams and tests", "How to diagnose Glaucoma ?", "A dilated eye exam, a measurement of eye pressure and a test of side vision are used to find glaucoma."),
    ("information", "What is (are) Celiac Disease ?", "Celiac disease is an immune reaction to gluten, a protein in wheat, barley and rye. It damages the lining of the small intestine so nutrients are poorly absorbed."),
    ("treatment", "What are the treatments for Celiac Disease ?", "The only treatment is a strict, lifelong gluten-free diet. Symptoms usually improve within weeks of removing gluten."),
    ("symptoms", "What are the symptoms of Celiac Disease ? ?", "Diarrhea, bloating, weight loss and tiredness are common. Some people have no gut symptoms but develop anemia or thin bones."),
    ("causes", "What causes Gallstones ?", "Gallstones form when bile holds too much cholesterol or bilirubin, or when the gallbladder does not empty well."),
    ("information", "What is (are) Gallstones ?", "Gallstones are hard pieces that form in the gallbladder. Many cause no symptoms, but one that blocks a duct causes sudden pain in the upper right belly."),
    ("prevention", "How to prevent Osteoporosis ?", "Enough calcium and vitamin D, weight-bearing exercise and not smoking help keep bones strong."),
    ("information", "What is (are) Osteoporosis ?", "Osteoporosis makes bones weak and more likely to break. It often causes no symptoms until a bone breaks."),
    ("information", "What is (are) Osteoporosis ?", "A disease in which bone density falls so that bones become fragile. Fractures of the hip, spine and wrist are the most common results."),
    ("outlook", "What is the outlook for Bell's Palsy ?", "Most people recover fully within a few weeks to months. A few have lasting weakness of the face."),
    ("information", "What is (are) Bell's Palsy ?", "Bell's palsy is sudden weakness of the muscles on one side of the face, caused by swelling of the nerve that controls them."),
    ("frequency", "How many people are affected by Cystic Fibrosis ?", "Cystic fibrosis affects roughly 1 in 3,000 to 4,000 newborns of European ancestry and is less common in other groups."),
    ("inheritance", "Is Cystic Fibrosis inherited ?", "Yes. It is inherited in an autosomal recessive pattern: a child must receive a changed CFTR gene from each parent."),
    ("information", "What is (are) Shingles ?", "Shingles is a painful, blistering rash caused by the varicella-zoster virus, the virus that also causes chickenpox."),
    ("prevention", "How to prevent Shingles ? ?", "A shingles vaccine is recommended for adults aged 50 and older, even if they have had shingles before."),
    ("symptoms", "What are the symptoms of Hypothyroidism ?", "Tiredness, feeling cold, weight gain, constipation and dry skin are common. They develop slowly over months or years."),
    ("information", "What is (are) Hypothyroidism ?", "Hypothyroidism means the thyroid gland does not make enough thyroid hormone, so the body's processes slow down."),
    ("treatment", "What are the treatments for Hypothyroidism ?", "A daily tablet of synthetic thyroid hormone, levothyroxine, replaces the missing hormone. Blood tests guide the dose."),
    ("information", "What is (are) Sickle Cell Disease ?", "An inherited blood disorder in which red blood cells become stiff and curved. They can block blood flow and cause pain and organ damage."),
    ("inheritance", "Is Sickle Cell Disease inherited ?", "Yes, in an autosomal recessive pattern. People with one changed gene have sickle cell trait and usually no symptoms."),
    ("causes", "What causes Kidney Stones ?", "Kidney stones form when calcium, oxalate or uric acid become concentrated in urine and crystallize. Not drinking enough fluid is a common factor."),
    ("symptoms", "What are the symptoms of Kidney Stones ?", "Severe pain in the side or back that comes in waves, blood in the urine and nausea are common."),
    ("information", "What is (are) Tinnitus ?", "Tinnitus is hearing ringing, buzzing or other sounds that have no outside source. It is often linked to hearing loss."),
    ("exams and tests", "How to diagnose Anemia ?", "A complete blood count measures hemoglobin and red cell size. Tests such as ferritin or vitamin B12 levels then find the cause."),
    ("information", "What is (are) Anemia ?", "Anemia is a condition in which the blood has fewer healthy red blood cells or less hemoglobin than normal, so tissues get less oxygen."),
    ("treatment", "What are the treatments for Plantar Fasciitis ?", "Rest, calf and foot stretches, supportive shoes and pain relievers help most people within a few months."),
    ("information", "What is (are) Rosacea ?", "Rosacea is a common skin condition that causes redness and visible blood vessels on the face, sometimes with small bumps."),
    ("susceptibility", "Who is at risk for Melanoma ?", "People with fair skin, many moles, a history of sunburn or a family history of melanoma have a higher risk."),
    ("symptoms", "What are the symptoms of Melanoma ? ?", "A new mole, or a change in the size, shape or colour of an existing one, can be a sign. A mole with an irregular border or one that bleeds should be checked."),
    ("information", "What is (are) Lyme Disease ?", "Lyme disease is an infection with Borrelia bacteria spread by the bite of infected ticks. A slowly expanding red rash is often the first sign."),
]
MEDQUAD_QUIRKS = [
    MEDQUAD[3],                                                     # exact duplicate
    MEDQUAD[20],                                                    # exact duplicate
    ("treatment", "What are the treatments for Tinnitus ?", None),  # empty answer (blank CSV cell)
    ("information", "what is (are) celiac disease  ?", MEDQUAD[6][2]),  # duplicate up to case/space
    ("outlook", "What is the outlook for Lyme Disease ?", "  Most people recover fully after a few weeks of antibiotics.\n\n\n\nSome have tiredness or joint pain for months.  "),
]

DIALOGUE = [
    ("I have had a sore throat and a mild fever for two days. Should I be worried?", "A sore throat with a mild fever is most often a viral infection that settles within a week. Drink fluids, rest and use paracetamol for pain; see a doctor if swallowing becomes hard, the fever is high or it lasts beyond a week."),
    ("My blood pressure at the pharmacy was 150/95. What does that mean?", "One high reading is not a diagnosis, but 150/95 is above the normal range. Have it rechecked several times over the next weeks and see your doctor about lifestyle changes and whether you need treatment."),
    ("I get dizzy when I stand up quickly. Is this normal?", "Brief dizziness on standing is common and often due to a short drop in blood pressure, especially when you are dehydrated. Stand up slowly and drink enough; see your doctor if you faint or it happens often."),
    ("I have a red, itchy rash on my arms after gardening.", "This sounds like contact dermatitis from a plant or an irritant. Wash the skin, avoid scratching and use a mild hydrocortisone cream; see a doctor if it spreads, blisters a lot or looks infected."),
    ("My 4 year old has had diarrhea since yesterday but is drinking well.", "Most diarrhea in young children is viral and settles in a few days. Keep offering fluids and normal food; seek care if there are fewer wet nappies, blood in the stool, a high fever or unusual drowsiness."),
    ("I am 30 weeks pregnant and my feet swell by the evening.", "Mild swelling of the feet late in pregnancy is common; rest with your feet raised. Contact your midwife promptly if the swelling is sudden, affects your face or hands, or comes with headache or changes in vision."),
    ("I have had heartburn almost every night for a month.", "Frequent heartburn is usually reflux. Avoid large late meals, raise the head of your bed and cut down on alcohol and coffee; see a doctor if it persists, swallowing is difficult or you lose weight."),
    ("I cut my finger with a kitchen knife and it keeps bleeding.", "Press firmly on the cut with a clean cloth for ten minutes without lifting it. If it still bleeds, gapes open or you cannot move the finger normally, go to urgent care as it may need stitches."),
    ("I feel tired all the time even though I sleep eight hours.", "Ongoing tiredness has many possible causes, including anemia, thyroid problems, low mood and sleep apnea. Your doctor can do simple blood tests and ask about your sleep and mood."),
    ("My lower back hurts after I lifted boxes yesterday.", "This is most likely a muscle strain. Stay gently active and use heat and simple pain relief; get urgent help if your legs become weak, the groin goes numb or passing urine becomes difficult."),
    ("Can I take ibuprofen with my blood pressure medicine?", "An occasional dose is usually fine, but regular ibuprofen can raise blood pressure and strain the kidneys with some blood pressure drugs. Ask your pharmacist, and consider paracetamol for regular pain relief."),
    ("My ears feel blocked after a cold.", "Blocked ears after a cold are common because the tubes that drain the middle ear swell. It usually clears within a few weeks; see a doctor if you have ear pain, discharge or hearing loss that does not improve."),
    ("I was stung by a bee and my whole forearm is swollen.", "Large local swelling after a sting is common and settles within days with cold packs and an antihistamine. Call emergency services at once if you have trouble breathing, a swollen face or throat, or feel faint."),
    ("It burns when I urinate and I need to go very often.", "These are typical signs of a bladder infection. See a doctor for a urine test, as you may need antibiotics; seek care quickly if you also have fever, back pain or vomiting."),
    ("A mole on my back has become darker and itchy.", "A mole that changes colour or starts to itch should be checked by a doctor soon. Most changes are harmless, but it is important to rule out melanoma early."),
    ("How long should a cold last?", "Most colds last seven to ten days, and a cough can linger a little longer. See a doctor if you have a high fever, difficulty breathing or symptoms lasting more than three weeks."),
]

CHATDOCTOR_INSTRUCTION = "You are a doctor. Answer the patient's question based on their description."
CHATDOCTOR = [
    ("Hello doctor, I am 45 and have had a dull pain in my right upper belly after fatty meals for three months.", "Hi, thanks for your question. Pain in that area after fatty meals often comes from gallstones. An abdominal ultrasound is the best first test; until then, eat smaller, low-fat meals. Take care."),
    ("Hi, my 6 year old son has had a barking cough at night for two days and a mild fever.", "Hello. A barking cough at night in a young child is typical of croup, a viral infection of the upper airway. Fluids and calm help; take him to a doctor urgently if he struggles to breathe or makes a high-pitched sound when breathing in."),
    ("I am a 28 year old woman with period pain so strong I miss a day of work each month.", "Hello. Pain this strong deserves a check-up. Anti-inflammatory painkillers started at the first sign of pain often help, and a gynecologist can look for causes such as endometriosis and discuss hormonal treatment."),
    ("Hi doctor, my fasting sugar was 118 mg/dL on a routine test. I have no symptoms.", "Hi. A fasting glucose of 118 mg/dL is in the prediabetes range. Ask your doctor for an HbA1c test; weight loss, regular exercise and less sugar can bring it back to normal."),
    ("I have had ringing in both ears since a loud concert two days ago.", "Hello. Ringing after loud noise is common and often fades within days. Avoid loud places meanwhile; if it lasts more than two weeks or your hearing seems reduced, see an ear specialist for a hearing test."),
    ("My mother is 70 and has become confused over two days. She also has a fever.", "Hello. Sudden confusion with fever in an older person can be a sign of an infection, for example of the urine or chest. Please take her to a doctor today for an examination and tests."),
    ("I am 35 and my fingers turn white and numb in the cold.", "Hi. This sounds like Raynaud's phenomenon, in which small blood vessels narrow in the cold. Keep your hands and body warm and avoid smoking; see a doctor to check for an underlying cause."),
    ("Hello, I have had a painful lump on my eyelid for three days.", "Hello. This is most likely a stye, an infected gland at the edge of the eyelid. Warm compresses several times a day usually help it drain; do not squeeze it, and see a doctor if the swelling spreads or your vision changes."),
    ("Hi, I am 50 and get chest tightness when I walk uphill that goes away when I rest.", "Hello. Chest tightness brought on by effort and relieved by rest can be angina from narrowed heart arteries. Please see a doctor soon for an ECG and further tests, and call emergency services if the pain comes at rest or lasts more than a few minutes."),
    ("I have had dandruff and an itchy scalp for months.", "Hi. This is usually seborrheic dermatitis. A shampoo with ketoconazole or zinc pyrithione used twice a week usually controls it."),
    ("My teenage daughter has acne on her face and back.", "Hello. Mild acne often improves with a benzoyl peroxide or adapalene gel used daily for several weeks. If it is severe or leaves scars, a doctor can prescribe stronger treatment."),
    ("Hi doctor, I am 60 and wake up three times every night to pass urine.", "Hello. At your age this is often due to an enlarged prostate, though diabetes and drinking late in the evening can contribute. See your doctor for a urine test, a blood sugar test and an examination."),
    ("I sneeze and have a runny nose every spring.", "Hi. Symptoms every spring point to hay fever. A daily non-drowsy antihistamine or a steroid nasal spray started before the season usually helps."),
    ("Hello, I have a painful red swelling around my toenail.", "Hi. This sounds like a paronychia, an infection of the skin fold around the nail. Soak the toe in warm water three times a day; see a doctor if pus collects or redness spreads, as it may need draining or antibiotics."),
    ("Hello doctor, I have a burning pain in my stomach an hour after meals for two weeks.", "Hi. Burning pain after meals can come from gastritis or an ulcer. Avoid painkillers like ibuprofen, alcohol and smoking; see a doctor for a test for Helicobacter pylori, and urgently if you vomit blood or pass black stools."),
    ("I am 40 and my heart sometimes skips a beat when I drink coffee.", "Hello. Occasional skipped beats are common and often harmless, and caffeine is a frequent trigger. Cut down on coffee; see a doctor if you feel faint, short of breath or have chest pain with them."),
]

# Written in the shape of ChatDoctor's known junk: the anonymiser's "Chat Doctor" placeholders, cut answers,
# referral-only and very short answers.
CHATDOCTOR_JUNK = [
    ("Hi doctor, I get cold sores on my lip every winter.", "Hi. Thanks for your query. Cold sores come from the herpes simplex virus, which wakes up with cold weather or stress. An antiviral cream started at the first tingle shortens an outbreak. Regards, Chat Doctor."),  # placeholder sign-off: repaired
    ("Hello, my 3 year old has patches of dry itchy skin on his elbows.", "Hello. This sounds like eczema. Some parents try homeopatChatDoctoredicines, but they have not been shown to help. A fragrance-free moisturiser twice a day and a mild steroid cream for flares are the usual treatment."),  # known splice: repaired
    ("Hi, I have a sinus infection and was given antibiotics.", "Hi. Take the tabletChatDoctorice a day after food for five days, and use steam inhalation and saline drops to help the sinuses drain. See your doctor if the fever returns."),  # unknown splice: dropped
    ("Hello doctor, is a low carbohydrate diet safe for me? I have type 2 diabetes.", "Hello. A moderate low carbohydrate diet is safe for most people with type 2 diabetes. You can read more about it at Chat Doctor. and ask your doctor before changing your medicines."),  # placeholder for a link: dropped
    ("Hi, the back of my knee is swollen and painful after a long flight.", "Hi. Thanks for the query. Pain and swelling behind the knee after a long flight need a scan to rule out a blood clot in the leg veins. I would suggest the following"),  # cut mid-sentence: dropped
    ("Hello, I have white spots on my nails.", "Hi. For further queries consult a dermatologist online. Take care."),  # referral only: dropped
    ("Hi doctor, I twisted my ankle playing football.", "Hello. It is probably a sprain. Rest it."),  # under 100 characters: dropped
]

CHATBOT = [
    ("Q. What causes burning feet at night?", "Hi doctor, I am 52 and my feet burn at night for the last few months. I have diabetes.", "Hi. Burning feet in a person with diabetes is most often due to nerve damage from high blood sugar. Good sugar control is the most important step, and your doctor can prescribe medicine for the nerve pain. For more information consult an internal medicine physician online -->"),
    ("Q. Is it normal to have a headache after a fever?", "Hello doctor, my fever went away yesterday but I still have a mild headache.", "Hi. A mild headache for a day or two after a viral fever is common. Rest, drink fluids and take paracetamol if needed; seek care if it is severe or comes with neck stiffness."),
    ("Q. How do I stop my child's nosebleeds?", "Hi doctor, my 8 year old son gets nosebleeds two or three times a week.", "Hi. Pinch the soft part of his nose and lean him forward for ten minutes. Frequent nosebleeds are often from dry air or nose picking; a saline gel helps, and an ENT doctor can check if they continue -->"),
    ("Q. Why is my heart racing after a workout?", "Hello doctor, my heart rate stays at 110 for half an hour after exercise.", "Hi. Heart rate normally stays raised for a while after hard exercise. If it takes much longer to settle than before, or you feel dizzy or breathless, an ECG is worth doing."),
    ("Q. What does a high ESR mean?", "Hi doctor, my blood test shows ESR 40. What does it mean?", "Hi. ESR is a general marker of inflammation and can rise with infection, inflammatory disease or anemia. It must be read together with your symptoms and other tests -->"),
    ("Q. Can thyroid problems cause hair loss?", "Hello doctor, I am 32 and losing more hair than usual. My mother has thyroid disease.", "Hi. Both an underactive and an overactive thyroid can cause hair thinning. Please get a TSH test done; the hair usually recovers once thyroid levels are treated."),
    ("Q. Why do I have a white coating on my tongue?", "Hi doctor, my tongue has been white for a week after a course of antibiotics.", "Hi. A white coating after antibiotics is often oral thrush, a yeast infection. An antifungal gel or lozenge usually clears it; see your doctor if it does not improve in a week."),
    ("Q. Is leg cramp at night a sign of something serious?", "Hello doctor, I get painful calf cramps at night.", "Hi. Night cramps are common and usually harmless. Stretch your calves before bed and drink enough water; tell your doctor if you take diuretics, as low potassium can cause them."),
    ("Q. How long does a sprained wrist take to heal?", "Hi doctor, I fell on my hand and my wrist is swollen but I can move it.", "Hi. A mild sprain heals in two to six weeks. An X-ray is wise after a fall on the hand to rule out a fracture, especially if the pain is near the base of the thumb."),
    ("Q. Should I worry about blood in my stool?", "Hello doctor, I saw bright red blood on the toilet paper twice this week.", "Hi. Bright red blood on the paper is often from piles or a small tear. It still needs an examination by your doctor, especially if you are over 45 or your bowel habits have changed -->"),
    ("Q. Why am I always thirsty?", "Hi doctor, I drink a lot of water and pass urine very often.", "Hi. Constant thirst with frequent urination can be a sign of diabetes. Please have your fasting blood sugar and HbA1c checked."),
    ("Q. What is the cause of my dry cough?", "Hello doctor, I have had a dry cough for a month since starting a new blood pressure tablet.", "Hi. Some blood pressure tablets, called ACE inhibitors, commonly cause a dry cough. Ask your doctor about switching to another medicine; do not stop it on your own."),
    ("Q. Are swollen neck glands dangerous?", "Hi doctor, I have small swollen glands in my neck after a cold.", "Hi. Small, tender glands after a cold are a normal immune response and shrink within weeks. See a doctor if they are hard, painless, growing or last more than a month."),
    ("Q. Can anxiety cause chest pain?", "Hello doctor, I get chest pain when I am anxious. My ECG was normal.", "Hi. Anxiety can cause chest tightness and fast breathing. As your ECG was normal, breathing exercises and treating the anxiety can help; seek urgent care if the pain is different or comes with exertion."),
    ("Q. Why does my knee click?", "Hi doctor, my knee clicks when I climb stairs but does not hurt.", "Hi. Painless clicking is usually harmless and comes from tendons or gas bubbles in the joint. Strengthening the thigh muscles helps; see a doctor if pain, swelling or locking develops."),
]

CHATBOT_JUNK = [
    ("Q. What is this rash on my back?", "Hi doctor, I have had a red rash on my back for a week.", "Hi. For more doubts, consult a dermatologist online -->"),  # referral only
    ("Q. Can I drink coffee with antibiotics?", "Hello doctor, I started amoxicillin today. Is coffee fine?", "Hi. Yes, coffee is fine with amoxicillin."),  # under 100 characters
    ("Q. Why does my jaw click when I chew?", "Hi doctor, my jaw clicks and aches when I eat hard food.", "Hi. Clicking with aching when chewing usually comes from the jaw joint. Soft food and warm compresses help, and the most likely cause is"),  # cut mid-sentence
    ("Q. Why are my nails brittle?", "Patient: Hi doctor, my nails split and break easily.", "Doctor: Hi. Brittle nails most often come from frequent hand washing and dry air. Use a hand cream after washing and wear gloves for chores; a thyroid test is worth doing if your hair is also thinning."),  # scraped prefixes
]

MEDTUNED_NER = "Identify every disease mentioned in the text and list them separated by commas. Answer 'none' if there is no disease."
MEDTUNED_RE = "Decide whether the drug in the sentence caused the adverse effect described. Answer yes or no."
MEDTUNED_NLI = "Given the premise and the hypothesis, answer entailment, contradiction or neutral."
MEDTUNED_CLS = "Classify the main topic of the sentence as one of: treatment, diagnosis, prevention."
MEDTUNED_QA = "Answer the question with yes, no or maybe, using the context."
MEDTUNED_TRAIN = [
    (MEDTUNED_NER, "The patient has a history of type 2 diabetes and chronic kidney disease.", "type 2 diabetes, chronic kidney disease", "NCBI-disease"),
    (MEDTUNED_NER, "She was admitted with community-acquired pneumonia.", "community-acquired pneumonia", "NCBI-disease"),
    (MEDTUNED_NER, "The clinic opens at eight every morning.", "none", "NCBI-disease"),
    (MEDTUNED_NER, "Asthma and eczema often occur together in children.", "asthma, eczema", "NCBI-disease"),
    (MEDTUNED_NER, "Two years later he developed atrial fibrillation.", "atrial fibrillation", "BC5CDR"),
    (MEDTUNED_RE, "After starting lisinopril the patient developed a persistent dry cough.", "yes", "ADE"),
    (MEDTUNED_RE, "The patient took paracetamol and the headache resolved.", "no", "ADE"),
    (MEDTUNED_RE, "Muscle pain appeared two weeks after simvastatin was begun.", "yes", "ADE"),
    (MEDTUNED_RE, "She received amoxicillin and her ear pain improved.", "no", "ADE"),
    (MEDTUNED_NLI, "Premise: The patient's hemoglobin was 7.2 g/dL. Hypothesis: The patient is anemic.", "entailment", "MedNLI"),
    (MEDTUNED_NLI, "Premise: The patient denies chest pain. Hypothesis: The patient reports chest pain.", "contradiction", "MedNLI"),
    (MEDTUNED_NLI, "Premise: The patient was given insulin in the emergency room. Hypothesis: The patient has a sister.", "neutral", "MedNLI"),
    (MEDTUNED_NLI, "Premise: Blood cultures grew E. coli. Hypothesis: The patient has a bacterial infection.", "entailment", "MedNLI"),
    (MEDTUNED_CLS, "Daily aspirin reduced recurrent stroke in this trial.", "treatment", "HoC"),
    (MEDTUNED_CLS, "Ultrasound detected gallstones in 92 percent of cases.", "diagnosis", "HoC"),
    (MEDTUNED_CLS, "Hand washing lowered infection rates on the ward.", "prevention", "HoC"),
    (MEDTUNED_QA, "Question: Does regular exercise lower blood pressure? Context: In the trial, adults who walked 30 minutes a day had lower blood pressure after six months than those who did not.", "yes", "PubMedQA"),
    (MEDTUNED_QA, "Question: Does vitamin C prevent colds? Context: Daily vitamin C did not reduce how often participants caught colds, though colds were slightly shorter.", "no", "PubMedQA"),
    (MEDTUNED_QA, "Question: Does early mobilisation shorten hospital stay after hip surgery? Context: A small study suggested shorter stays, but the difference was not significant.", "maybe", "PubMedQA"),
    (MEDTUNED_QA, "What is the normal adult body temperature in degrees Celsius?", "About 37 degrees Celsius.", "PubMedQA"),
]
MEDTUNED_TRAIN_QUIRKS = [
    MEDTUNED_TRAIN[0],                                               # exact duplicate
    (MEDTUNED_RE, "The patient developed a rash after taking the new antibiotic.", "", "ADE"),  # empty answer
    (MEDTUNED_QA, "", "About 37 degrees Celsius.", "PubMedQA"),      # empty input: instruction is the question
]
MEDTUNED_CHAT = "Answer the patient's question as a doctor would."
MEDTUNED_EXAM = "Answer the multiple-choice question with the letter of the correct option."
MEDQA_SAMPLE_QUESTION = "A 24-year-old woman has fatigue and pale conjunctivae. She has heavy menstrual periods. Hemoglobin is 9.8 g/dL with a low mean corpuscular volume and low ferritin. Which is the most likely cause of her anemia?"
MEDMCQA_SAMPLE_QUESTION = "Which nerve is injured in a fracture of the surgical neck of the humerus?"
PUBMEDQA_SAMPLE_QUESTION = "Does a structured hand-washing reminder lower hospital-acquired diarrhoea on a medical ward?"
MEDTUNED_TRAIN_JUNK = [
    (MEDTUNED_CHAT, "Hi, I get cramps in my feet when I swim.", "Hello. Foot cramps while swimming are common and usually come from tired muscles and cold water. Stretch before you swim and drink enough water. Thanks for using Chat Doctor.", "chatdoctor"),  # placeholder sign-off: repaired
    (MEDTUNED_CHAT, "Hello, my toddler has a fever of 38.5 and is eating less.", "Hi. A fever of 38.5 in a toddler who is still drinking and playing is usually a viral infection. Give fluids and a fever medicine for comfort, and your symptoms suggest you should", "chatdoctor"),  # cut mid-sentence
    (MEDTUNED_EXAM, f"Question: {MEDQA_SAMPLE_QUESTION}\nOptions: A. Iron deficiency from blood loss B. Vitamin B12 deficiency C. Hemolysis D. Aplastic anemia", "A. Iron deficiency from blood loss", "pmc_llama"),  # a MedQA benchmark question
    (MEDTUNED_EXAM, f"Question: {MEDMCQA_SAMPLE_QUESTION}\nOptions: A. Radial nerve B. Axillary nerve C. Ulnar nerve D. Median nerve", "B. Axillary nerve", "pmc_llama"),  # a MedMCQA benchmark question
    (MEDTUNED_QA, f"Question: {PUBMEDQA_SAMPLE_QUESTION} Context: Two wards were compared for six months.", "yes", "PubMedQA"),  # a PubMedQA benchmark question
    (MEDTUNED_EXAM, "Question: Which vitamin deficiency causes scurvy?\nOptions: A. Vitamin A B. Vitamin C C. Vitamin D D. Vitamin K", "B. Vitamin C", "pmc_llama"),  # not a benchmark question: kept
]
MEDTUNED_VALIDATION = [
    (MEDTUNED_NER, "Her father died of colon cancer at 62.", "colon cancer", "NCBI-disease"),
    (MEDTUNED_NER, "The patient reports no recent travel.", "none", "NCBI-disease"),
    (MEDTUNED_RE, "Swelling of the lips began an hour after the first dose of enalapril.", "yes", "ADE"),
    (MEDTUNED_NLI, "Premise: Her oxygen saturation was 99 percent on room air. Hypothesis: The patient is hypoxic.", "contradiction", "MedNLI"),
    (MEDTUNED_CLS, "A CT scan confirmed the diagnosis of appendicitis.", "diagnosis", "HoC"),
    (MEDTUNED_QA, "Question: Does smoking raise the risk of lung cancer? Context: Smokers had a much higher rate of lung cancer than non-smokers over 20 years.", "yes", "PubMedQA"),
    (MEDTUNED_CLS, "The vaccine halved hospital admissions for influenza.", "prevention", "HoC"),
    (MEDTUNED_NER, "Her father died of colon cancer at 62.", "colon cancer", "NCBI-disease"),  # duplicate
]


def sharegpt(*turns):
    names = {"s": "system", "h": "human", "g": "gpt"}
    return [{"from": names[who], "value": text} for who, text in turns]


FINETOME = [
    (sharegpt(("h", "Explain what photosynthesis is in two sentences."), ("g", "Photosynthesis is the process by which plants, algae and some bacteria use light energy to turn carbon dioxide and water into sugar. Oxygen is released as a by-product.")), "infini-instruct-top-500k", 5.1),
    (sharegpt(("h", "Write a Python function that returns the largest number in a list."), ("g", "def largest(numbers):\n    return max(numbers)\n\nmax() raises ValueError on an empty list, so check the list first if it may be empty.")), "infini-instruct-top-500k", 4.9),
    (sharegpt(("s", "You are a helpful assistant."), ("h", "What is the capital of Canada?"), ("g", "The capital of Canada is Ottawa.")), "WebInstructSub_axolotl", 4.6),
    (sharegpt(("h", "Why is the sky blue?"), ("g", "Air molecules scatter short blue wavelengths of sunlight much more than long red ones, so blue light reaches our eyes from every direction of the sky.")), "WebInstructSub_axolotl", 5.0),
    (sharegpt(("h", "Give me three tips for studying effectively."), ("g", "Study in short sessions with breaks, test yourself instead of rereading, and sleep well so your memory can consolidate what you learned.")), "infini-instruct-top-500k", 4.7),
    (sharegpt(("h", "What is 15 percent of 80?"), ("g", "15 percent of 80 is 12, because 0.15 times 80 equals 12."), ("h", "And 20 percent?"), ("g", "20 percent of 80 is 16.")), "infini-instruct-top-500k", 4.8),
    (sharegpt(("h", "Summarize the water cycle."), ("g", "Water evaporates from oceans and lakes, condenses into clouds, falls as rain or snow, and flows back to the sea through rivers and ground water.")), "WebInstructSub_axolotl", 4.9),
    (sharegpt(("h", "Translate 'good morning' into French and Spanish."), ("g", "French: bonjour. Spanish: buenos días.")), "infini-instruct-top-500k", 4.5),
    (sharegpt(("h", "What does a CPU do?"), ("g", "The CPU carries out the instructions of programs: it fetches them from memory, decodes them and performs the arithmetic, logic and control operations they ask for.")), "WebInstructSub_axolotl", 4.8),
    (sharegpt(("h", "Write a haiku about autumn."), ("g", "Red leaves drift and fall\ncool wind hums through empty trees\nthe year breathes slowly")), "infini-instruct-top-500k", 4.6),
    (sharegpt(("h", "How do I convert Celsius to Fahrenheit?"), ("g", "Multiply the Celsius temperature by 9/5 and add 32. For example, 20 °C is 68 °F.")), "WebInstructSub_axolotl", 5.0),
    (sharegpt(("s", "Answer like a patient teacher."), ("h", "What is a prime number?"), ("g", "A prime number is a whole number greater than 1 whose only divisors are 1 and itself, like 2, 3, 5 and 7.")), "infini-instruct-top-500k", 4.9),
    (sharegpt(("h", "Name the planets of the solar system in order."), ("g", "Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus and Neptune.")), "WebInstructSub_axolotl", 4.7),
    (sharegpt(("h", "What is the difference between weather and climate?"), ("g", "Weather is the state of the atmosphere over hours or days; climate is the average pattern of weather in a place over decades.")), "WebInstructSub_axolotl", 4.8),
    (sharegpt(("h", "Suggest a name for a bakery."), ("g", "How about 'The Rising Loaf'?")), "infini-instruct-top-500k", 4.4),
    (sharegpt(("h", "Explain recursion simply."), ("g", "Recursion is when a function solves a problem by calling itself on a smaller version of the same problem, until it reaches a case small enough to answer directly.")), "infini-instruct-top-500k", 5.0),
]
FINETOME_CODE = [
    (sharegpt(("h", "Write a Python function that counts the vowels in a string."), ("g", "Here is one way:\n\n```python\ndef count_vowels(text):\n    total = 0\n    for letter in text.lower():\n        if letter in \"aeiou\":  # y is not counted\n            total += 1\n    return total\n```\n\nIt visits each letter once, so it runs in linear time.")), "infini-instruct-top-500k", 4.9),  # indented code in a fence
    (sharegpt(("h", "Write a C program that counts the positive numbers in an array."), ("g", "```c\n#include <stdio.h>\n\nint main(void) {\n    int a[] = {3, -1, 4, 0, 5};\n    int n = 5, count = 0;\n    for (int i = 0; i<n; i++) if (a[i]>0) count++;\n    printf(\"%d\\n\", count);\n    return 0;\n}\n```\nIt prints 3.")), "infini-instruct-top-500k", 4.8),  # <stdio.h> and i<n are not tags
    (sharegpt(("h", "How do I keep a list of names in Java?"), ("g", "Use a List<String>, for example an ArrayList<String>, and call add() for each name. If x < y and y > z, nothing is known about x and z; sort the list before comparing.")), "WebInstructSub_axolotl", 4.6),  # generics in prose
]
FINETOME_QUIRKS = [
    FINETOME[3],                                                                            # exact duplicate
    (sharegpt(("h", "Describe the moon."), ("g", "")), "WebInstructSub_axolotl", 4.2),          # empty answer
    (sharegpt(("h", "Tell me a fact about whales."), ("g", "Blue whales are the largest animals known to have lived."), ("h", "Another one?")), "infini-instruct-top-500k", 4.3),  # ends on the user
    (sharegpt(("g", "Hello! How can I help?"), ("h", "What is rain?")), "WebInstructSub_axolotl", 4.1),  # starts with the assistant
]

MEDICAL_QUESTIONS = [
    ("What are the early signs of Parkinson's disease?", 1), ("How much water should I drink a day?", 1),
    ("Is it safe to take aspirin every day?", 1), ("What causes a migraine aura?", 1),
    ("How long does a broken wrist take to heal?", 1), ("Can children take ibuprofen?", 1),
    ("What is a normal cholesterol level?", 1), ("Why do my joints ache in cold weather?", 1),
    ("How is strep throat diagnosed?", 1), ("What does a high white blood cell count mean?", 1),
    ("When should a baby get the measles vaccine?", 1), ("What are the side effects of statins?", 1),
    ("How do I know if a burn needs a doctor?", 1), ("Is chest pain after coughing serious?", 1),
    ("What helps with morning sickness?", 1), ("How is sleep apnea treated?", 1),
    ("What is the best way to cook rice?", 0), ("Who wrote Pride and Prejudice?", 0),
    ("How do I change a flat tyre?", 0), ("What is the capital of Australia?", 0),
    ("How many players are on a football team?", 0), ("What time zone is Tokyo in?", 0),
    ("How do I reset my router?", 0), ("What is the tallest mountain in Africa?", 0),
    ("How do you make a paper airplane?", 0), ("What is compound interest?", 0),
    ("Which planet has the most moons?", 0), ("How do I learn to play guitar?", 0),
    ("What is the speed of sound?", 0), ("How do I write a cover letter?", 0),
    ("What language is spoken in Brazil?", 0), ("How do I grow tomatoes on a balcony?", 0),
]
MEDICAL_QUESTIONS_QUIRKS = [
    ("Is it safe to take aspirin every day?", 1),     # exact duplicate
    ("", 0),                                          # empty text
    ("  what is the capital of australia??", 0),       # duplicate up to case/space/punctuation
    ("What is the normal range for blood pressure?", None),  # missing label (blank CSV cell)
]

TERMS = [
    ("Appendicitis", "Appendicitis is inflammation of the appendix, a small pouch attached to the large intestine. It usually causes pain that moves to the lower right abdomen, with nausea and fever.\n\nTreatment is usually surgery to remove the appendix, sometimes antibiotics alone."),
    ("Bradycardia", "Bradycardia is a slower than normal heart rate, generally below 60 beats per minute in adults. It is normal in many athletes but can cause tiredness or fainting when the heart's electrical system is diseased."),
    ("Cataract", "A cataract is a clouding of the lens of the eye that makes vision blurry or dim. It develops slowly with age and is treated by replacing the lens with an artificial one."),
    ("Dermatitis", "Dermatitis is a general term for inflammation of the skin. It causes redness, itching and sometimes blisters, and has many forms, including contact dermatitis and atopic eczema."),
    ("Edema", "Edema is swelling caused by fluid trapped in the body's tissues, most often in the feet and legs. Causes include heart failure, kidney disease, vein problems and some medicines."),
    ("Fibromyalgia", "Fibromyalgia is a long-term condition that causes widespread pain, tiredness and poor sleep. Its cause is not fully understood; exercise, sleep care and some medicines help."),
    ("Gastritis", "Gastritis is inflammation of the stomach lining. It can be caused by Helicobacter pylori infection, alcohol or anti-inflammatory painkillers, and causes upper abdominal pain and nausea."),
    ("Hematuria", "Hematuria is blood in the urine, visible or found only on testing. It can come from infection, stones or, less often, tumours of the kidney or bladder, so it should always be investigated."),
    ("Insomnia", "Insomnia is persistent difficulty falling asleep or staying asleep. Cognitive behavioural therapy is the most effective long-term treatment."),
    ("Jaundice", "Jaundice is a yellow colour of the skin and eyes caused by a build-up of bilirubin. It can come from liver disease, blocked bile ducts or rapid breakdown of red blood cells."),
    ("Keratitis", "Keratitis is inflammation of the cornea, the clear front surface of the eye. Infection, often linked to contact lens use, is a common cause, and it can threaten vision."),
    ("Leukocytosis", "Leukocytosis is a white blood cell count above the normal range. It is usually a response to infection or inflammation but can also be caused by stress, steroids or blood cancers."),
    ("Myopia", "Myopia, or short-sightedness, makes distant objects look blurry while near objects are clear. It is corrected with glasses, contact lenses or laser surgery."),
    ("Neuralgia", "Neuralgia is sharp, shooting pain along the path of a nerve. Trigeminal neuralgia, which affects the face, is a well-known example."),
    ("Otitis media", "Otitis media is an infection or inflammation of the middle ear, common in young children. It causes ear pain and fever and usually gets better within a few days."),
    ("Pleurisy", "Pleurisy is inflammation of the membranes around the lungs. It causes sharp chest pain that is worse when breathing in or coughing."),
    ("Tachycardia", "Tachycardia is a heart rate faster than normal, generally above 100 beats per minute at rest in adults. <ref>Cardiology notes</ref> It can be a normal response to exercise or fever, or a sign of a heart rhythm disorder."),
]
TERMS_QUIRKS = [
    TERMS[2],                                 # exact duplicate
    ("Vertigo", ""),                          # empty article
    ("Uveitis", None),                        # missing article
    (None, "A term without a title."),        # missing title
]


def write_jsonl(name, rows):
    with open(HERE / name, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(name, columns, rows):
    with open(HERE / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([["" if value is None else value for value in row] for row in rows])


def write_parquet(name, columns, rows):
    table = pa.Table.from_pylist([dict(zip(columns, row)) for row in rows])
    pq.write_table(table, HERE / name)


def main():
    write_jsonl("wikidoc.jsonl", [{"instruction": WIKIDOC_INSTRUCTION, "input": q, "output": a}
                                  for q, a in WIKIDOC + WIKIDOC_QUIRKS])
    write_jsonl("wikidoc-patient.jsonl", [{"instruction": WIKIDOC_INSTRUCTION, "input": q, "output": a}
                                          for q, a in WIKIDOC_PATIENT + WIKIDOC_PATIENT_QUIRKS])
    write_csv("medquad.csv", ["qtype", "Question", "Answer"], MEDQUAD + MEDQUAD_QUIRKS)
    dialogue = [{"instruction": q, "input": "", "output": a} for q, a in DIALOGUE]
    dialogue += [dialogue[0],                                                  # exact duplicate
                 {"instruction": "I have pain in my left knee when I climb stairs.", "input": "", "output": None},
                 {"instruction": "My eyes are red and watery.", "input": "", "output": ""},
                 {"instruction": "I have a headache every afternoon.", "input": "I work at a computer all day.",
                  "output": "Afternoon headaches in people who work at screens are often tension headaches. Take regular breaks, check your posture and drink enough water; see a doctor if they get worse or wake you at night."},
                 {"instruction": "how long should a cold last ??", "input": "", "output": DIALOGUE[15][1]},
                 {"instruction": "Patient: I have a stuffy nose every morning.", "input": "",      # scraped prefixes
                  "output": "Doctor: Morning stuffiness is often caused by dust mites or dry bedroom air. Wash bedding in hot water every week and try a saline spray; an antihistamine helps if it is an allergy."},
                 {"instruction": "I bruise easily.", "input": "", "output": "Easy bruising has several causes."}]  # under 100 characters
    write_jsonl("medical-dialogue.jsonl", dialogue)
    chatdoctor = [(CHATDOCTOR_INSTRUCTION, q, a) for q, a in CHATDOCTOR]
    chatdoctor += [chatdoctor[3],                                              # exact duplicate
                   (CHATDOCTOR_INSTRUCTION, "Hi, my gums bleed when I brush.", "<b>Hello.</b> Bleeding gums are usually a sign of gum inflammation from plaque. Brush gently twice a day, floss daily and see a dentist for a cleaning."),
                   (CHATDOCTOR_INSTRUCTION, "", "Hello. Please describe your symptoms."),        # empty question
                   (CHATDOCTOR_INSTRUCTION, "i have had dandruff and an itchy scalp for months.", CHATDOCTOR[9][1])]
    chatdoctor += [(CHATDOCTOR_INSTRUCTION, q, a) for q, a in CHATDOCTOR_JUNK]
    write_parquet("chatdoctor.parquet", ["instruction", "input", "output"], chatdoctor)
    chatbot = CHATBOT + [CHATBOT[0], CHATBOT[0], CHATBOT[2], CHATBOT[4], CHATBOT[9],  # exact duplicates
                         ("Q. What is a normal pulse?", "Hi doctor, what pulse rate is normal?  ", ""),
                         ("Q. Why do I feel dizzy?", None, "Hi. Please tell me more about when the dizziness happens.")]
    chatbot += CHATBOT_JUNK
    write_parquet("ai-medical-chatbot.parquet", ["Description", "Patient", "Doctor"], chatbot)
    columns = ["instruction", "input", "output", "source"]
    write_parquet("medtuned-train.parquet", columns, MEDTUNED_TRAIN + MEDTUNED_TRAIN_QUIRKS + MEDTUNED_TRAIN_JUNK)
    write_parquet("medtuned-validation.parquet", columns, MEDTUNED_VALIDATION)
    write_parquet("finetome.parquet", ["conversations", "source", "score"], FINETOME + FINETOME_QUIRKS + FINETOME_CODE)
    write_csv("medical-questions.csv", ["text", "label"], MEDICAL_QUESTIONS + MEDICAL_QUESTIONS_QUIRKS)
    write_parquet("wiki-medical-terms.parquet", ["page_title", "page_text"], TERMS + TERMS_QUIRKS)


if __name__ == "__main__":
    main()
